import SystemPackage

/// Which of a guest's two monitor channels a socket serves.
public enum MonitorChannel: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Stays connected until the client leaves: HMP with a banner and prompt, or a QMP session
    /// when the first line is a JSON object.
    case interactive
    /// One command (an HMP line or a QMP object), one answer, then the server closes.
    case command

    public var description: String { rawValue }
}

/// A socket a ``MonitorServer`` listens on.
public struct MonitorEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// Where the socket is bound.
    public enum Address: Sendable, Hashable, CustomStringConvertible {
        /// A UNIX stream socket at `path`.
        case unix(path: FilePath)
        /// A TCP socket on `host` (a numeric loopback address, "127.0.0.1" or "::1") and `port`.
        case tcp(host: String, port: Int)

        public var description: String {
            switch self {
            case .unix(let path): "unix:\(path.string)"
            case .tcp(let host, let port): host.contains(":") ? "tcp:[\(host)]:\(port)" : "tcp:\(host):\(port)"
            }
        }
    }

    /// The channel this socket serves.
    public var channel: MonitorChannel
    /// Where it is bound.
    public var address: Address

    public init(channel: MonitorChannel, address: Address) {
        self.channel = channel
        self.address = address
    }

    public var description: String { "\(channel) \(address)" }
}
