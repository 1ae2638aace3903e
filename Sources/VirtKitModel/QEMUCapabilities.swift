/// What one QEMU binary offers, as probed over QMP (`query-machines`, `query-cpu-definitions`,
/// `query-kvm`): the facts libvirt's capabilities and domain capabilities XML are made of.
/// Kept per binary and invalidated when the binary's size or modification time changes, as
/// libvirt's capabilities cache is.
public struct QEMUCapabilities: Codable, Sendable, Equatable {
    /// A machine type: `pc-q35-7.2` with its alias `q35`.
    public struct Machine: Codable, Sendable, Equatable {
        public var name: String
        public var alias: String?
        public var maxCPUs: Int
        public var deprecated: Bool
        /// QEMU's default machine (`pc`'s target on x86).
        public var isDefault: Bool
        public init(name: String, alias: String?, maxCPUs: Int, deprecated: Bool, isDefault: Bool) {
            self.name = name
            self.alias = alias
            self.maxCPUs = maxCPUs
            self.deprecated = deprecated
            self.isDefault = isDefault
        }
    }

    /// A CPU model and whether TCG can give all of it (`unavailable-features` empty).
    public struct CPUModel: Codable, Sendable, Equatable {
        public var name: String
        public var usable: Bool
        public var deprecated: Bool
        public init(name: String, usable: Bool, deprecated: Bool) {
            self.name = name
            self.usable = usable
            self.deprecated = deprecated
        }
    }

    public var emulator: String
    /// The binary's size and modification time (nanoseconds) when it was probed.
    public var binarySize: Int64
    public var binaryModified: Int64
    /// libvirt's numbering: major * 1,000,000 + minor * 1,000 + micro.
    public var version: UInt64
    /// The target architecture (`x86_64`).
    public var arch: String
    public var machines: [Machine]
    public var cpuModels: [CPUModel]
    /// Whether QEMU was built with KVM (`query-kvm`'s `present`).
    public var kvmPresent: Bool

    public init(emulator: String, binarySize: Int64, binaryModified: Int64, version: UInt64, arch: String,
                machines: [Machine], cpuModels: [CPUModel], kvmPresent: Bool) {
        self.emulator = emulator
        self.binarySize = binarySize
        self.binaryModified = binaryModified
        self.version = version
        self.arch = arch
        self.machines = machines
        self.cpuModels = cpuModels
        self.kvmPresent = kvmPresent
    }

    /// The machine a name or alias stands for.
    public func machine(named name: String) -> Machine? {
        machines.first { $0.name == name } ?? machines.first { $0.alias == name }
    }

    /// QEMU's default machine.
    public var defaultMachine: Machine? {
        machines.first(where: \.isDefault) ?? machines.first
    }
}
