import SystemPackage
import VirtKitModel
import VirtKitHost
import VirtKitText

/// The daemon's `monitor.conf` (in its configuration directory), qemu-init's knobs:
///
///     # the interactive channel of the n-th started guest listens on base_port + n,
///     # its command channel 100 higher; ports in use are skipped
///     base_port = 30320
///     # TCP listeners (127.0.0.1, and ::1 where the host has it); UNIX sockets are always there
///     tcp = yes
///     # monitor commands that reach the host's files or programs (pmemsave, drive_add file=,
///     # migrate "exec:...", screendump, qemu-io, ...): refused unless yes
///     allow_host_access = no
///
/// A missing file means the defaults. A guest's `<virtkit:monitor port tcp>` metadata overrides both.
public struct MonitorSettings: Sendable, Equatable {
    public var basePort = 30320
    public var tcp = true
    public var allowHostAccess = false

    public init(basePort: Int = 30320, tcp: Bool = true, allowHostAccess: Bool = false) {
        self.basePort = basePort
        self.tcp = tcp
        self.allowHostAccess = allowHostAccess
    }

    /// Reads `path`; defaults when it does not exist; an error naming file, line and value otherwise.
    public static func load(_ path: FilePath) throws(RuntimeError) -> MonitorSettings {
        try ConfFile.load(path, default: MonitorSettings(), parse: parse)
    }

    public static func parse(_ text: String, file: String) throws(RuntimeError) -> MonitorSettings {
        var settings = MonitorSettings()
        for entry in try ConfFile.entries(text, file: file) {
            switch entry.key {
            case "base_port":
                settings.basePort = try entry.integer(in: 1...65435, "a port from 1 to 65435")
            case "tcp":
                settings.tcp = try entry.boolean()
            case "allow_host_access":
                settings.allowHostAccess = try entry.boolean()
            default:
                throw entry.unknown(known: "base_port, tcp, allow_host_access")
            }
        }
        return settings
    }
}

/// The `key = value` lines of VirtKit's configuration files (`#` starts a comment; values may
/// be quoted), each with its `file:line` for errors.
enum ConfFile {
    struct Entry {
        let key: String
        let value: String
        /// `file:line`.
        let location: String

        func integer(in range: ClosedRange<Int>, _ what: String) throws(RuntimeError) -> Int {
            guard let number = Int(value), range.contains(number) else {
                throw RuntimeError(.configUnsupported, "\(location): \(key) must be \(what), got '\(value)'")
            }
            return number
        }

        func boolean() throws(RuntimeError) -> Bool {
            switch value {
            case "yes", "on", "1", "true": return true
            case "no", "off", "0", "false": return false
            default: throw RuntimeError(.configUnsupported, "\(location): \(key) must be yes or no, got '\(value)'")
            }
        }

        func unknown(known: String) -> RuntimeError {
            RuntimeError(.configUnsupported, "\(location): unknown setting '\(key)' (known: \(known))")
        }
    }

    /// The settings in the file at `path`, `fallback` when there is none.
    static func load<Settings>(_ path: FilePath, default fallback: Settings,
                               parse: (String, String) throws(RuntimeError) -> Settings) throws(RuntimeError) -> Settings {
        guard let bytes = AtomicFile.read(path) else { return fallback }
        return try parse(String(decoding: bytes, as: UTF8.self), path.string)
    }

    static func entries(_ text: String, file: String) throws(RuntimeError) -> [Entry] {
        var entries: [Entry] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let trimmed = line.trimmingBlanks
            if trimmed.isEmpty { continue }
            let location = "\(file):\(index + 1)"
            let parts = trimmed.split(separator: "=", maxSplits: 1).map { $0.trimmingBlanks }
            guard parts.count == 2 else {
                throw RuntimeError(.configUnsupported, "\(location): expected 'key = value', got '\(trimmed)'")
            }
            entries.append(Entry(key: parts[0], value: parts[1].unquoted, location: location))
        }
        return entries
    }
}

extension String {
    /// Without one pair of matching quotes around it (`"a b"` or `'a b'`).
    var unquoted: String {
        if count >= 2, let first, first == last, first == "\"" || first == "'" {
            return String(dropFirst().dropLast())
        }
        return self
    }
}
