import SystemPackage
import VirtKitHost

extension MonitorServer {
    /// How to set up one guest's monitor channels.
    public struct Configuration: Sendable, Equatable {
        /// The interactive channel's socket name in ``unixDirectory``.
        public static let interactiveSocketName = "monitor-interactive.sock"
        /// The command channel's socket name in ``unixDirectory``.
        public static let commandSocketName = "monitor-command.sock"
        /// The longest UNIX socket path, in bytes (`sockaddr_un.sun_path` less its NUL).
        public static let maxSocketPathLength = 107
        /// qemu-init's first interactive port (MONPORT).
        public static let defaultBasePort = 30320
        /// CTLPORT = MONPORT + this.
        public static let commandPortOffset = 100
        /// The highest MONPORT: CTLPORT must stay within 65535.
        public static let highestMonitorPort = 65535 - commandPortOffset

        /// The guest's name, for logs.
        public var guestName: String
        /// The guest's private run directory; the sockets are ``interactiveSocketName`` and
        /// ``commandSocketName`` in it, mode 0600.
        public var unixDirectory: FilePath
        /// Whether and where to listen on TCP loopback.
        public var tcp: TCPPlan
        /// How long one command may take in QEMU before the client gets a timeout error.
        public var commandTimeout: Duration
        /// How long a command-channel client may take to send its command, and how long a
        /// closing client's unsent output is kept before the socket is closed anyway.
        public var idleTimeout: Duration
        /// The longest command line, in bytes; a longer one gets an error and the client is closed.
        public var maxLineLength: Int
        /// How many clients each channel serves at once (UNIX and TCP together); more are
        /// sent an error line and closed.
        public var maxClientsPerChannel: Int
        /// How much output may wait for a client that does not read before it is disconnected.
        public var maxPendingOutput: Int
        /// How many MONPORTs ``TCPPlan/automatic(base:ordinal:)`` tries.
        public var maxPortAttempts: Int
        /// Who may use the TCP channels (the owner of the connecting socket, found through the
        /// kernel): by default the daemon's own user and root.
        public var tcpAccess: PeerAccess

        public init(
            guestName: String,
            unixDirectory: FilePath,
            tcp: TCPPlan = .automatic(base: defaultBasePort, ordinal: 0),
            commandTimeout: Duration = .seconds(30),
            idleTimeout: Duration = .seconds(10),
            maxLineLength: Int = 64 * 1024,
            maxClientsPerChannel: Int = 128,
            maxPendingOutput: Int = 1024 * 1024,
            maxPortAttempts: Int = 1000,
            tcpAccess: PeerAccess = PeerAccess()
        ) {
            self.guestName = guestName
            self.unixDirectory = unixDirectory
            self.tcp = tcp
            self.commandTimeout = commandTimeout
            self.idleTimeout = idleTimeout
            self.maxLineLength = maxLineLength
            self.maxClientsPerChannel = maxClientsPerChannel
            self.maxPendingOutput = maxPendingOutput
            self.maxPortAttempts = maxPortAttempts
            self.tcpAccess = tcpAccess
        }

        /// The interactive channel's UNIX socket path.
        public var interactiveSocketPath: FilePath { unixDirectory.appending(Self.interactiveSocketName) }
        /// The command channel's UNIX socket path.
        public var commandSocketPath: FilePath { unixDirectory.appending(Self.commandSocketName) }

        /// The UNIX socket path for `channel`.
        public func socketPath(for channel: MonitorChannel) -> FilePath {
            channel == .interactive ? interactiveSocketPath : commandSocketPath
        }

        func validate() throws(MonitorError) {
            let positive: [(String, Bool)] = [
                ("commandTimeout \(commandTimeout)", commandTimeout > .zero),
                ("idleTimeout \(idleTimeout)", idleTimeout > .zero),
                ("maxLineLength \(maxLineLength)", maxLineLength > 0),
                ("maxClientsPerChannel \(maxClientsPerChannel)", maxClientsPerChannel > 0),
                ("maxPendingOutput \(maxPendingOutput)", maxPendingOutput > 0),
                ("maxPortAttempts \(maxPortAttempts)", maxPortAttempts > 0),
            ]
            for (field, valid) in positive where !valid {
                throw .invalidConfiguration("\(field) must be positive")
            }
            for channel in MonitorChannel.allCases {
                let path = socketPath(for: channel)
                let length = path.string.utf8.count
                if length > Self.maxSocketPathLength { throw .socketPathTooLong(path: path, length: length) }
            }
        }
    }

    /// Whether and on which ports to listen on TCP loopback (127.0.0.1, and ::1 where the
    /// host has IPv6 loopback). The interactive port is MONPORT, the command port
    /// CTLPORT = MONPORT + 100; both must be free on every address.
    public enum TCPPlan: Sendable, Hashable {
        /// UNIX sockets only.
        case disabled
        /// qemu-init's scheme: MONPORT = `base + ordinal` (the guest's start number), or the
        /// next pair up that can be bound, up to 65435.
        case automatic(base: Int, ordinal: Int)
        /// Exactly this MONPORT (re-attach after a daemon restart, a per-guest override).
        /// When it cannot be bound TCP is off, with the reason.
        case fixed(monitorPort: Int)
    }
}
