/// `virtkit dominfo`.
public struct DomainInfo: Codable, Sendable, Equatable {
    public var summary: DomainSummary
    public var osType: String
    public var maxMemoryKiB: UInt64
    public var usedMemoryKiB: UInt64
    public var vcpus: UInt32
    /// CPU time in seconds while running (from /proc/PID/stat).
    public var cpuTimeSeconds: Double?
    public var persistent: Bool
    public var autostart: Bool
    /// QEMU's pid while running.
    public var pid: Int32?
    /// The accelerator QEMU runs with (`kvm` or `tcg`).
    public var accelerator: String?
    /// virtio channels and whether a guest-side program holds them open (from VSERPORT_CHANGE).
    public var channels: [ChannelConnection]

    public init(summary: DomainSummary, osType: String, maxMemoryKiB: UInt64, usedMemoryKiB: UInt64,
                vcpus: UInt32, cpuTimeSeconds: Double?, persistent: Bool, autostart: Bool, pid: Int32?,
                accelerator: String?, channels: [ChannelConnection]) {
        self.summary = summary
        self.osType = osType
        self.maxMemoryKiB = maxMemoryKiB
        self.usedMemoryKiB = usedMemoryKiB
        self.vcpus = vcpus
        self.cpuTimeSeconds = cpuTimeSeconds
        self.persistent = persistent
        self.autostart = autostart
        self.pid = pid
        self.accelerator = accelerator
        self.channels = channels
    }
}

/// A virtio channel's guest-side state.
public struct ChannelConnection: Codable, Sendable, Equatable {
    public var name: String
    public var connected: Bool
    public init(name: String, connected: Bool) {
        self.name = name
        self.connected = connected
    }
}
