import SystemPackage
import VirtKitModel
import VirtKitHost

/// The daemon's `console.conf` (in its configuration directory): the console broker's knobs,
/// with virtlogd's names and defaults for the logs.
///
///     # bytes per log file before it is rotated (virtlogd's default 2 MiB); 0 never rotates
///     max_size = 2097152
///     # rotated files kept (NAME.log.1 ... .N)
///     max_backups = 3
///     # bytes of recent console output replayed to each new client (channels keep none)
///     scrollback_size = 1048576
///
/// A missing file means the defaults.
public struct ConsoleSettings: Sendable, Equatable {
    public var maxSize = 2 << 20
    public var maxBackups = 3
    public var scrollbackSize = 1 << 20

    public init(maxSize: Int = 2 << 20, maxBackups: Int = 3, scrollbackSize: Int = 1 << 20) {
        self.maxSize = maxSize
        self.maxBackups = maxBackups
        self.scrollbackSize = scrollbackSize
    }

    /// Reads `path`; defaults when it does not exist; an error naming file, line and value otherwise.
    public static func load(_ path: FilePath) throws(RuntimeError) -> ConsoleSettings {
        try ConfFile.load(path, default: ConsoleSettings(), parse: parse)
    }

    public static func parse(_ text: String, file: String) throws(RuntimeError) -> ConsoleSettings {
        var settings = ConsoleSettings()
        for entry in try ConfFile.entries(text, file: file) {
            switch entry.key {
            case "max_size": settings.maxSize = try entry.integer(in: 0...Int(Int32.max), "a byte count")
            case "max_backups": settings.maxBackups = try entry.integer(in: 0...1000, "a count from 0 to 1000")
            case "scrollback_size": settings.scrollbackSize = try entry.integer(in: 0...(256 << 20), "a byte count up to 256 MiB")
            default: throw entry.unknown(known: "max_size, max_backups, scrollback_size")
            }
        }
        return settings
    }
}
