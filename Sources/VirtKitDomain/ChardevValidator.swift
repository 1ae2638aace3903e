/// libvirt's chardev checks (`virDomainChrSourceDefValidate`, `qemuValidateDomainChrDef`), with
/// libvirt's messages, plus the ones VirtKit makes at definition where libvirt waits for start.
enum ChardevValidator {
    /// The largest UNIX socket path the kernel takes (`sizeof(sun_path)` - 1).
    static let maxUnixPathBytes = 107

    static func validate(_ chardev: Chardev, in domain: Domain) throws(DomainError) {
        try validateSource(chardev)
        switch chardev.source {
        case .tcp(let tcp) where tcp.reconnect.enabled == true && tcp.reconnect.timeout == 0:
            throw DomainError(.invalidArgument, "chardev reconnect source timeout cannot be '0'")
        case .unix(let unix) where unix.reconnect.enabled == true && unix.reconnect.timeout == 0:
            throw DomainError(.invalidArgument, "chardev reconnect source timeout cannot be '0'")
        case .spicevmc, .spiceport:
            if !domain.hasSpiceGraphics {
                throw DomainError(.configUnsupported,
                                  "chardev '\(chardev.source.typeName)' not supported without spice graphics")
            }
        default: break
        }
        switch chardev.target {
        case .serial(let type, let model, _):
            try validateSerialTarget(type: type, model: model, address: chardev.address)
        case .console(let type, _):
            if type != .serial && type != .virtio {
                throw DomainError(.configUnsupported, "unsupported console target type \(type.rawValue)")
            }
        default: break
        }
        // VirtKit: QEMU connects to a connect-mode UNIX path itself, so it must fit sun_path.
        if case .unix(let unix) = chardev.source, unix.mode == .connect, let path = unix.path,
           path.utf8.count > maxUnixPathBytes {
            throw DomainError(.configUnsupported,
                              "UNIX socket path '\(path)' too long (\(path.utf8.count) bytes, at most \(maxUnixPathBytes)) "
                                  + "for \(chardev.target.elementName) in connect mode")
        }
    }

    private static func validateSource(_ chardev: Chardev) throws(DomainError) {
        let missingPath = DomainError(.internalError, "Missing source path attribute for char device")
        let reconnectOnBind = DomainError(.internalError, "chardev reconnect is possible only for connect mode")
        switch chardev.source {
        case .file(let path, _), .dev(let path), .pipe(let path):
            if path == nil { throw missingPath }
        case .nmdm(let master, let slave):
            if (master == nil) != (slave == nil) {
                throw DomainError(.internalError, "Should define both master and slave path attributes for nmdm device")
            }
        case .tcp(let tcp):
            if tcp.host == nil { throw DomainError(.internalError, "Missing source host attribute for char device") }
            if tcp.service == nil { throw DomainError(.internalError, "Missing source service attribute for char device") }
            if tcp.mode == .bind && tcp.reconnect.enabled != nil { throw reconnectOnBind }
        case .udp(let udp):
            if udp.connectService == nil {
                throw DomainError(.internalError, "Missing source service attribute for char device")
            }
        case .unix(let unix):
            if unix.path == nil {
                switch chardev.target {
                case .virtioChannel, .xenChannel: break
                default: throw missingPath
                }
            }
            if unix.mode == .bind && unix.reconnect.enabled != nil { throw reconnectOnBind }
        case .spiceport(let channel), .dbus(let channel):
            guard let channel else {
                throw DomainError(.configUnsupported, "Missing source channel attribute for char device")
            }
            let allowed = channel.utf8.allSatisfy { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                    || b == 0x5F || b == 0x2E || b == 0x2D
            }
            if !allowed { throw DomainError(.invalidArgument, "Invalid character in source channel for char device") }
        default: break
        }
    }

    private static func validateSerialTarget(type: SerialTargetType, model: SerialTargetModel,
                                             address: DeviceAddress?) throws(DomainError) {
        if let address {
            let expected: String?
            switch type {
            case .isaSerial, .isaDebug: expected = "isa"
            case .usbSerial: expected = "usb"
            case .pciSerial: expected = "pci"
            case .spaprVioSerial: expected = "spapr-vio"
            case .systemSerial, .sclpSerial:
                throw DomainError(.configUnsupported, "Target type '\(type.rawValue)' cannot have an associated address")
            case .none: expected = nil
            }
            let actual: String
            switch address {
            case .isa: actual = "isa"
            case .usb: actual = "usb"
            case .pci: actual = "pci"
            case .virtioSerial: actual = "virtio-serial"
            }
            if let expected, expected != actual {
                throw DomainError(.configUnsupported, "Target type '\(type.rawValue)' requires address type '\(expected)'")
            }
        }
        if model != .none && model.requiredTargetType != type {
            throw DomainError(.configUnsupported,
                              "Target model '\(model.rawValue)' requires target type '\(model.requiredTargetType.rawValue)'")
        }
        switch type {
        case .spaprVioSerial, .systemSerial, .sclpSerial:
            throw DomainError(.configUnsupported,
                              "Serial device with target type '\(type.rawValue)' and target model '\(model.rawValue)' "
                                  + "not compatible with guest architecture or machine type")
        default: break
        }
    }
}
