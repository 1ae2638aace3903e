/// A libvirt domain: the subset VirtKit runs, with every character device in full.
///
/// Values are plain data. ``DomainParser`` fills one from XML and applies libvirt's defaults,
/// ``DomainValidator`` refuses what libvirt refuses, ``DomainFormatter`` writes it back.
public struct Domain: Sendable {
    /// `<domain type>`: kvm or qemu (TCG).
    public enum VirtType: String, Sendable { case qemu, kvm }
    /// `on_poweroff` / `on_reboot` / `on_crash` actions.
    public enum LifecycleAction: String, Sendable {
        case destroy, restart, preserve, renameRestart = "rename-restart"
        case coredumpDestroy = "coredump-destroy", coredumpRestart = "coredump-restart"
    }

    public var virtType: VirtType = .qemu
    public var name: String = ""
    public var uuid: String = ""
    public var title: String?
    public var description: String?
    /// `<metadata>`, nil when the domain has none (see ``Metadata``).
    public var metadata: Metadata?
    public var memoryKiB: UInt64 = 0
    public var currentMemoryKiB: UInt64 = 0
    public var vcpus: UInt32 = 1
    public var os = OperatingSystem()
    public var features = Features()
    public var cpu: CPU?
    public var clockOffset: String = "utc"
    /// `<clock>`'s `<timer>`s, in document order.
    public var clockTimers: [ClockTimer] = []
    public var onPoweroff: LifecycleAction = .destroy
    public var onReboot: LifecycleAction = .restart
    public var onCrash: LifecycleAction = .destroy
    public var pm = PowerManagement()
    public var devices = Devices()

    public init() {}

    /// `<os>`.
    public struct OperatingSystem: Sendable {
        public var type: String = "hvm"
        public var arch: String = "x86_64"
        public var machine: String = "pc"
        public var kernel: String?
        public var initrd: String?
        public var cmdline: String?
        public var bootDevices: [String] = []
        public init() {}
    }

    /// `<features>`: the ones a small x86 guest needs.
    public struct Features: Sendable {
        public var acpi = false
        public var apic = false
        public var pae = false
        public init() {}
        public var isEmpty: Bool { !acpi && !apic && !pae }
    }

    /// `<cpu mode ...>`.
    public struct CPU: Sendable {
        public var mode: String
        public var match: String?
        public var check: String?
        public var model: String?
        public var fallback: String?
        public init(mode: String, match: String? = nil, check: String? = nil, model: String? = nil,
                    fallback: String? = nil) {
            self.mode = mode
            self.match = match
            self.check = check
            self.model = model
            self.fallback = fallback
        }
    }

    /// Machine family, from the machine type.
    public var isQ35: Bool { os.machine.hasPrefix("pc-q35") || os.machine == "q35" }

    public var hasSpiceGraphics: Bool { devices.graphics.contains { $0.type == .spice } }
}

/// `<devices>`.
public struct Devices: Sendable {
    public var emulator: String?
    public var disks: [Disk] = []
    public var controllers: [Controller] = []
    public var interfaces: [NetworkInterface] = []
    public var serials: [Chardev] = []
    public var parallels: [Chardev] = []
    public var consoles: [Chardev] = []
    public var channels: [Chardev] = []
    public var inputs: [Input] = []
    public var graphics: [Graphics] = []
    public var audios: [Audio] = []
    public var videos: [Video] = []
    public var memballoon: Memballoon?
    public init() {}
}

/// `<disk type='file' device='disk'>`.
public struct Disk: Sendable {
    public var device: String = "disk"
    public var driverName: String = "qemu"
    public var format: String = "raw"
    public var sourceFile: String?
    public var targetDev: String = ""
    public var targetBus: String = "virtio"
    public var readonly = false
    public var address: DeviceAddress?
    public init() {}
}

/// `<controller>`: virtio-serial, usb, pci, sata, ide.
public struct Controller: Sendable {
    public var type: String
    public var index: Int
    public var model: String?
    /// virtio-serial `ports` / `vectors`.
    public var ports: Int?
    public var vectors: Int?
    /// pcie-root-port `<target chassis port>`.
    public var chassis: Int?
    public var port: Int?
    public var modelName: String?
    /// A USB companion controller's `<master startport>`.
    public var masterStartPort: Int?
    public var address: DeviceAddress?
    public init(type: String, index: Int, model: String? = nil) {
        self.type = type
        self.index = index
        self.model = model
    }
}

/// `<interface type='user|network|bridge'>`.
public struct NetworkInterface: Sendable {
    public var type: String = "user"
    public var mac: String?
    public var model: String?
    public var address: DeviceAddress?
    /// `<source network>`: the virtual network of a `network` interface.
    public var sourceNetwork: String?
    /// `<source bridge>`: the host bridge of a `bridge` interface; for a running `network`
    /// interface, the network's bridge (libvirt writes both then).
    public var sourceBridge: String?
    /// `<target dev>`: the tap's name (given, or the one the kernel chose for a running guest).
    public var targetDev: String?
    /// `<link state='down'/>` of a running domain's NIC (`domif-setlink`); a definition's NICs
    /// start up.
    public var linkDown = false
    public init() {}

    /// Whether QEMU's side is a tap virtkitd makes and plugs into a bridge.
    public var usesTap: Bool { type == "network" || type == "bridge" }
}

/// `<input type bus>`.
public struct Input: Sendable {
    public var type: String
    public var bus: String
    public init(type: String, bus: String) {
        self.type = type
        self.bus = bus
    }
}

/// `<graphics type='spice|vnc'>`.
public struct Graphics: Sendable {
    public enum Kind: String, Sendable { case spice, vnc }
    public var type: Kind
    public var port: Int?
    public var autoport: Bool?
    public var listen: String?
    public init(type: Kind) {
        self.type = type
    }
}

/// `<audio id type>`.
public struct Audio: Sendable {
    public var id: Int
    public var type: String
    public init(id: Int, type: String) {
        self.id = id
        self.type = type
    }
}

/// `<video><model type vram heads primary/>`.
public struct Video: Sendable {
    public var model: String
    public var vram: Int?
    public var heads: Int?
    public var primary: Bool
    public var address: DeviceAddress?
    public init(model: String, vram: Int? = nil, heads: Int? = nil, primary: Bool = false) {
        self.model = model
        self.vram = vram
        self.heads = heads
        self.primary = primary
    }
}

/// `<memballoon model>`.
public struct Memballoon: Sendable {
    public var model: String
    public var address: DeviceAddress?
    public init(model: String) {
        self.model = model
    }
}
