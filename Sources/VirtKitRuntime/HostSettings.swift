import SystemPackage

/// The daemon's `host.conf` (in its configuration directory): how guests start with the host.
///
///     # guests started at once when the host boots
///     parallel_start = 4
///     # seconds between two starts (libvirt-guests' START_DELAY)
///     start_delay = 0
///
/// A missing file means the defaults.
public struct HostSettings: Sendable, Equatable {
    public var parallelStart = 4
    public var startDelaySeconds = 0

    public init(parallelStart: Int = 4, startDelaySeconds: Int = 0) {
        self.parallelStart = parallelStart
        self.startDelaySeconds = startDelaySeconds
    }

    public static func load(_ path: FilePath) throws(RuntimeError) -> HostSettings {
        try ConfFile.load(path, default: HostSettings(), parse: parse)
    }

    public static func parse(_ text: String, file: String) throws(RuntimeError) -> HostSettings {
        var settings = HostSettings()
        for entry in try ConfFile.entries(text, file: file) {
            switch entry.key {
            case "parallel_start": settings.parallelStart = try entry.integer(in: 1...256, "a count from 1 to 256")
            case "start_delay": settings.startDelaySeconds = try entry.integer(in: 0...3600, "seconds from 0 to 3600")
            default: throw entry.unknown(known: "parallel_start, start_delay")
            }
        }
        return settings
    }
}
