import SystemPackage

/// The daemon's `host.conf` (in its configuration directory): how guests start with the host.
///
///     # guests started at once when the host boots
///     parallel_start = 4
///     # seconds between two starts (libvirt-guests' START_DELAY)
///     start_delay = 0
///     # GET /metrics also on this TCP address (none by default; the API socket always has it)
///     metrics_address = 127.0.0.1:9477
///
/// A missing file means the defaults.
public struct HostSettings: Sendable, Equatable {
    public var parallelStart = 4
    public var startDelaySeconds = 0
    /// Where `GET /metrics` is served on TCP too: a host (an IPv6 one in brackets) and a port.
    public var metricsAddress: (host: String, port: Int)?

    public init(parallelStart: Int = 4, startDelaySeconds: Int = 0, metricsAddress: (host: String, port: Int)? = nil) {
        self.parallelStart = parallelStart
        self.startDelaySeconds = startDelaySeconds
        self.metricsAddress = metricsAddress
    }

    public static func == (lhs: HostSettings, rhs: HostSettings) -> Bool {
        lhs.parallelStart == rhs.parallelStart && lhs.startDelaySeconds == rhs.startDelaySeconds
            && lhs.metricsAddress?.host == rhs.metricsAddress?.host && lhs.metricsAddress?.port == rhs.metricsAddress?.port
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
            case "metrics_address": settings.metricsAddress = try address(entry)
            default: throw entry.unknown(known: "parallel_start, start_delay, metrics_address")
            }
        }
        return settings
    }

    /// `HOST:PORT` or `[IPV6]:PORT`, the port 1 to 65535.
    static func address(_ entry: ConfFile.Entry) throws(RuntimeError) -> (host: String, port: Int) {
        let text = entry.value
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else {
            throw RuntimeError(.configUnsupported, "\(entry.location): \(entry.key) must be HOST:PORT, got '\(text)'")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, !host.contains(" ") else {
            throw RuntimeError(.configUnsupported, "\(entry.location): \(entry.key) must be HOST:PORT, got '\(text)'")
        }
        return (host, port)
    }
}
