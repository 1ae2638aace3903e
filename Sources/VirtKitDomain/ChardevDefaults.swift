/// The character-device part of libvirt's post-parse: ISA serial numbering, the qemu driver's
/// target defaults, port numbering, the serial/console mirror and the implicit virtio-serial
/// controllers.
enum ChardevDefaults {
    /// Where libvirt 9.0 (system mode) generates virtio channel sockets; a path under it that
    /// libvirt generated is dropped from inactive XML.
    static let libvirtChannelTargetDir = "/var/lib/libvirt/qemu/channel/target"
    static let maxISASerialPorts = 4

    static func apply(to domain: inout Domain) throws(DomainError) {
        try numberISASerials(&domain.devices.serials)
        var devices = domain.devices
        domain.devices = Devices()  // taken out, so that changing `devices` copies no array
        defer { domain.devices = devices }
        for i in devices.serials.indices { try postParse(at: i, in: &devices.serials) }
        for i in devices.parallels.indices { try postParse(at: i, in: &devices.parallels) }
        for i in devices.channels.indices { try postParse(at: i, in: &devices.channels) }
        for i in devices.consoles.indices { try postParse(at: i, in: &devices.consoles) }
        try addConsoleCompat(&devices)
        for chardev in [devices.channels, devices.consoles].joined() {
            let wantsController: Bool
            switch chardev.target {
            case .virtioChannel, .console(.virtio, _): wantsController = true
            default: wantsController = false
            }
            guard wantsController else { continue }
            var index = 0
            if case .virtioSerial(let controller, _, _) = chardev.address { index = Int(controller) }
            DomainDefaults.addControllerIfMissing(Controller(type: "virtio-serial", index: index),
                                                  into: &devices.controllers)
        }
        if !devices.serials.isEmpty { try postParse(at: 0, in: &devices.serials) }
    }

    /// `virDomainChrIsaSerialDefPostParse`: serials written as `isa-serial` get the lowest free
    /// port of 0-3; more than four, a port above 3 or a port used twice is refused.
    private static func numberISASerials(_ serials: inout [Chardev]) throws(DomainError) {
        var used = [Bool](repeating: false, count: maxISASerialPorts)
        var count = 0
        for serial in serials {
            guard case .serial(.isaSerial, _, let port) = serial.target else { continue }
            count += 1
            if count > maxISASerialPorts || port >= maxISASerialPorts {
                throw DomainError(.internalError, "Maximum supported number of ISA serial ports is '\(maxISASerialPorts)'")
            }
            if port >= 0 {
                if used[port] { throw DomainError(.internalError, "target port '\(port)' already allocated") }
                used[port] = true
            }
        }
        for i in serials.indices {
            guard case .serial(.isaSerial, _, -1) = serials[i].target else { continue }
            if let free = used.firstIndex(of: false) {
                used[free] = true
                serials[i].target = serials[i].target.withPort(free)
            }
        }
    }

    /// The qemu driver's `qemuDomainChrDefPostParse`, then the common `virDomainChrDefPostParse`.
    static func postParse(at index: Int, in array: inout [Chardev]) throws(DomainError) {
        var chardev = array[index]
        defer { array[index] = chardev }
        if case .serial(var type, var model, let port) = chardev.target {
            if type == .isaSerial || type == .none { type = .isaSerial }  // x86: the ISA UART
            if model == .none {
                switch type {
                case .isaSerial: model = .isaSerial
                case .usbSerial: model = .usbSerial
                case .pciSerial: model = .pciSerial
                case .isaDebug: model = .isaDebugcon
                case .spaprVioSerial: model = .spaprVty
                case .sclpSerial: model = .sclpconsole
                case .systemSerial, .none: model = .none
                }
            }
            chardev.target = .serial(type: type, model: model, port: port)
        }
        dropGeneratedPath(&chardev)
        if case .unix(var unix) = chardev.source, unix.path == nil {
            unix.mode = .bind  // no path: the path is generated, so the host side listens
            chardev.source = .unix(unix)
        }
        if case .console(.none, let port) = chardev.target {
            chardev.target = .console(type: .serial, port: port)
        }
        if chardev.target.port == -1 {
            let maxPort = array.compactMap { $0.target.port }.max() ?? -1
            chardev.target = chardev.target.withPort(maxPort + 1)
        }
    }

    /// `qemuDomainChrDefDropDefaultPath` (9.0): a virtio unix channel whose path libvirt generated
    /// (`^DIR/[^/]+\.` or `domain-[^/]+/NAME$`) loses the path in inactive XML.
    private static func dropGeneratedPath(_ chardev: inout Chardev) {
        guard case .virtioChannel(let name, _) = chardev.target, case .unix(var unix) = chardev.source,
              let path = unix.path else { return }
        var generated = false
        let prefix = libvirtChannelTargetDir + "/"
        if path.hasPrefix(prefix) {
            let rest = path.dropFirst(prefix.count)
            if let dot = rest.firstIndex(of: "."), !rest[rest.startIndex..<dot].contains("/"), dot > rest.startIndex {
                generated = true
            }
        }
        let suffix = "/" + (name ?? "")
        if !generated, path.hasSuffix(suffix) {
            let head = path.dropLast(suffix.count)
            let lastComponent = head.split(separator: "/", omittingEmptySubsequences: false).last ?? ""
            let marker = Array("domain-".utf8), bytes = Array(lastComponent.utf8)
            if bytes.count > marker.count {
                for start in 0...(bytes.count - marker.count - 1) where Array(bytes[start..<start + marker.count]) == marker {
                    generated = true
                    break
                }
            }
        }
        if generated {
            unix.path = nil
            chardev.source = .unix(unix)
        }
    }

    /// `virDomainDefAddConsoleCompat`: console 0 of type serial is serial 0 (moved there when
    /// there is no serial), and a serial without a console gets a stub console.
    private static func addConsoleCompat(_ devices: inout Devices) throws(DomainError) {
        for console in devices.consoles.dropFirst() {
            if case .console(.serial, _) = console.target {
                throw DomainError(.configUnsupported, "Only the first console can be a serial port")
            }
        }
        if let first = devices.consoles.first, case .console(.serial, _) = first.target {
            var replaceWithStub = false
            if devices.serials.isEmpty {
                var serial = first
                serial.target = .serial(type: .none, model: .none, port: 0)
                devices.serials.append(serial)
                replaceWithStub = true
            } else if !devices.serials[0].source.isSameDevice(as: first.source) {
                replaceWithStub = true
            }
            if replaceWithStub {
                devices.consoles[0] = stubConsole()
            }
        } else if let serial = devices.serials.first, case .serial(let type, _, _) = serial.target {
            switch type {
            case .isaSerial, .spaprVioSerial, .systemSerial, .sclpSerial, .none:
                devices.consoles.insert(stubConsole(), at: 0)
            case .pciSerial, .usbSerial, .isaDebug:
                break
            }
        }
    }

    private static func stubConsole() -> Chardev {
        Chardev(source: .null, target: .console(type: .serial, port: -1))
    }
}
