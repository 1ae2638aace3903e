import SystemPackage
import VirtKitAPI
import VirtKitHost

/// The daemon's `monitor.conf` (in its configuration directory), qemu-init's knobs:
///
///     # the interactive channel of the n-th started guest listens on base_port + n,
///     # its command channel 100 higher; ports in use are skipped
///     base_port = 30320
///     # TCP listeners (127.0.0.1, and ::1 where the host has it); UNIX sockets are always there
///     tcp = yes
///
/// A missing file means the defaults. A guest's `<virtkit:monitor port tcp>` metadata overrides both.
public struct MonitorSettings: Sendable, Equatable {
    public var basePort = 30320
    public var tcp = true

    public init(basePort: Int = 30320, tcp: Bool = true) {
        self.basePort = basePort
        self.tcp = tcp
    }

    /// Reads `path`; defaults when it does not exist; an error naming file, line and value otherwise.
    public static func load(_ path: FilePath) throws(APIError) -> MonitorSettings {
        guard let bytes = AtomicFile.read(path) else { return MonitorSettings() }
        return try parse(String(decoding: bytes, as: UTF8.self), file: path.string)
    }

    public static func parse(_ text: String, file: String) throws(APIError) -> MonitorSettings {
        var settings = MonitorSettings()
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let trimmed = line.trimmingSpaces
            if trimmed.isEmpty { continue }
            let where_ = "\(file):\(index + 1)"
            let parts = trimmed.split(separator: "=", maxSplits: 1).map { $0.trimmingSpaces }
            guard parts.count == 2 else {
                throw APIError(.configUnsupported, "\(where_): expected 'key = value', got '\(trimmed)'")
            }
            let value = parts[1].trimmingCharacters(quotes: true)
            switch parts[0] {
            case "base_port":
                guard let port = Int(value), (1...65435).contains(port) else {
                    throw APIError(.configUnsupported, "\(where_): base_port must be a port from 1 to 65435, got '\(value)'")
                }
                settings.basePort = port
            case "tcp":
                switch value {
                case "yes", "on", "1", "true": settings.tcp = true
                case "no", "off", "0", "false": settings.tcp = false
                default: throw APIError(.configUnsupported, "\(where_): tcp must be yes or no, got '\(value)'")
                }
            default:
                throw APIError(.configUnsupported, "\(where_): unknown setting '\(parts[0])' (known: base_port, tcp)")
            }
        }
        return settings
    }
}

extension Substring {
    var trimmingSpaces: String {
        String(drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" }).reversed()
            .drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" }).reversed())
    }
}

extension String {
    var trimmingSpaces: String { Substring(self).trimmingSpaces }

    func trimmingCharacters(quotes: Bool) -> String {
        if quotes, count >= 2, let first, first == last, first == "\"" || first == "'" {
            return String(dropFirst().dropLast())
        }
        return self
    }
}
