/// `<target type>` of a `<serial>`.
public enum SerialTargetType: String, Sendable, CaseIterable {
    case none, isaSerial = "isa-serial", usbSerial = "usb-serial", pciSerial = "pci-serial",
         spaprVioSerial = "spapr-vio-serial", systemSerial = "system-serial", sclpSerial = "sclp-serial",
         isaDebug = "isa-debug"
}

/// `<target><model name>` of a `<serial>`.
public enum SerialTargetModel: String, Sendable, CaseIterable {
    case none, isaSerial = "isa-serial", usbSerial = "usb-serial", pciSerial = "pci-serial",
         spaprVty = "spapr-vty", pl011, sclpconsole, sclplmconsole, uart16550a = "16550a",
         isaDebugcon = "isa-debugcon"

    /// The target type this model needs (libvirt's `qemuValidateChrSerialTargetModel` table).
    var requiredTargetType: SerialTargetType {
        switch self {
        case .none: return .none
        case .isaSerial: return .isaSerial
        case .usbSerial: return .usbSerial
        case .pciSerial: return .pciSerial
        case .spaprVty: return .spaprVioSerial
        case .pl011, .uart16550a: return .systemSerial
        case .sclpconsole, .sclplmconsole: return .sclpSerial
        case .isaDebugcon: return .isaDebug
        }
    }
}

/// `<target type>` of a `<console>`.
public enum ConsoleTargetType: String, Sendable, CaseIterable {
    case none, serial, xen, uml, virtio, lxc, openvz, sclp, sclplm
}

/// Connection state of a virtio channel as QEMU reports it (live XML only).
public enum ChannelState: String, Sendable {
    case connected, disconnected
}

/// The guest side of a character device: which element it is and where the guest sees it.
public enum ChardevTarget: Sendable, Equatable {
    /// `<serial>`: port -1 means "not given yet".
    case serial(type: SerialTargetType, model: SerialTargetModel, port: Int)
    case parallel(port: Int)
    case console(type: ConsoleTargetType, port: Int)
    /// `<channel><target type='virtio' name state/>`.
    case virtioChannel(name: String?, state: ChannelState?)
    /// `<channel><target type='guestfwd' address port/>`: the guest's TCP to address:port.
    case guestfwd(address: String, port: UInt32)
    case xenChannel(name: String?)
    case noneChannel

    /// The element name: serial, parallel, console or channel.
    public var elementName: String {
        switch self {
        case .serial: return "serial"
        case .parallel: return "parallel"
        case .console: return "console"
        case .virtioChannel, .guestfwd, .xenChannel, .noneChannel: return "channel"
        }
    }

    /// The port of a serial, parallel or console target (-1 if unset), nil for channels.
    public var port: Int? {
        switch self {
        case .serial(_, _, let port), .parallel(let port), .console(_, let port): return port
        default: return nil
        }
    }

    func withPort(_ port: Int) -> ChardevTarget {
        switch self {
        case .serial(let type, let model, _): return .serial(type: type, model: model, port: port)
        case .parallel: return .parallel(port: port)
        case .console(let type, _): return .console(type: type, port: port)
        default: return self
        }
    }
}

/// A guest address as libvirt's `<address>` element describes it.
public enum DeviceAddress: Sendable, Equatable {
    case pci(domain: UInt32, bus: UInt32, slot: UInt32, function: UInt32, multifunction: Bool?)
    case virtioSerial(controller: UInt32, bus: UInt32, port: UInt32)
    case isa(iobase: UInt32?, irq: UInt32?)
    case usb(bus: UInt32, port: String?)
}

/// One libvirt character device: `<serial>`, `<parallel>`, `<console>` or `<channel>`.
public struct Chardev: Sendable, Equatable {
    public var source: ChardevSource
    public var log: ChardevLog?
    public var seclabels: [SourceSecurityLabel]
    public var target: ChardevTarget
    /// A user alias (`ua-...`); libvirt keeps no other alias in inactive XML.
    public var alias: String?
    public var address: DeviceAddress?

    public init(source: ChardevSource, target: ChardevTarget, log: ChardevLog? = nil,
                seclabels: [SourceSecurityLabel] = [], alias: String? = nil, address: DeviceAddress? = nil) {
        self.source = source
        self.target = target
        self.log = log
        self.seclabels = seclabels
        self.alias = alias
        self.address = address
    }
}
