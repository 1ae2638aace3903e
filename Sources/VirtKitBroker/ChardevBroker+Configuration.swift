import SystemPackage

extension ChardevBroker {
    /// What one broker keeps and how much: scrollback, per-client queues, clients, the log.
    public struct Configuration: Sendable {
        /// Names the console in messages and log lines, e.g. `guest1` or `guest1 serial0`.
        public var name: String
        /// Bytes of recent output replayed to each new client (default 1 MiB); 0 keeps none.
        public var scrollbackSize: Int
        /// Bytes of live output a client may have waiting before its queue is dropped and it
        /// gets a ``BrokerOutput/gap(skipped:)`` instead (default 256 KiB). The scrollback
        /// replay a client starts with does not count against it.
        public var clientQueueLimit: Int
        /// Clients attached at once, served sockets included (default 64).
        public var maxClients: Int
        /// The console log, nil for none.
        public var log: LogConfiguration?
        /// How long ``ChardevBroker/stop()`` lets served sockets finish their last output
        /// before closing them anyway (default 2 s); a client that never reads cannot hold
        /// stop up for longer.
        public var closeGracePeriod: Duration
        /// How long a client that may write still gets output after it shut its sending side
        /// (default 2 s): the answers to what it sent last, as `socat -t` waits for them.
        public var halfCloseLinger: Duration = .seconds(2)
        /// Whether served clients get gaps, a lost pen and the close as visible lines in their
        /// byte stream (consoles, the default). False for a channel that carries a protocol:
        /// its bytes stay untouched, and a client that fell behind is closed instead of
        /// reading a gap marker.
        public var inBandNotices = true
        /// Where a socket peer's log commit record is kept (see ``LogCommit``): with it, what the
        /// guest wrote is logged exactly once even when the daemon is killed mid-read; nil: no
        /// record (at least once).
        public var logCommitPath: FilePath?
        /// Output the scrollback starts with: after a daemon restart, the tail of the log, so a
        /// client that re-attaches sees what it may have missed (at most ``scrollbackSize``).
        public var scrollbackSeed: [UInt8] = []

        public init(
            name: String, log: LogConfiguration? = nil, scrollbackSize: Int = 1 << 20,
            clientQueueLimit: Int = 256 << 10, maxClients: Int = 64, closeGracePeriod: Duration = .seconds(2)
        ) {
            self.name = name
            self.log = log
            self.scrollbackSize = scrollbackSize
            self.clientQueueLimit = clientQueueLimit
            self.maxClients = maxClients
            self.closeGracePeriod = closeGracePeriod
        }

        /// Throws ``BrokerError/invalidConfiguration(_:)`` naming the first value out of range.
        public func validate() throws(BrokerError) {
            if scrollbackSize < 0 { throw .invalidConfiguration("scrollback size \(scrollbackSize) is negative") }
            if clientQueueLimit < 1 {
                throw .invalidConfiguration("client queue limit \(clientQueueLimit) must be at least 1 byte")
            }
            if maxClients < 1 { throw .invalidConfiguration("max clients \(maxClients) must be at least 1") }
            if closeGracePeriod < .zero { throw .invalidConfiguration("close grace period is negative") }
            if let log {
                if log.maxSize < 0 { throw .invalidConfiguration("log max size \(log.maxSize) is negative") }
                if log.maxBackups < 0 { throw .invalidConfiguration("log max backups \(log.maxBackups) is negative") }
                if log.path.isEmpty { throw .invalidConfiguration("log path is empty") }
            }
        }
    }

    /// A console log with virtlogd's rotation: when `NAME.log` would pass ``maxSize``, it is
    /// renamed `NAME.log.1` (`.1` to `.2`, and so on up to ``maxBackups``, the oldest dropped)
    /// and a new `NAME.log` is started. Files are renamed, never truncated in place, so a
    /// reader of the old file keeps everything it had.
    ///
    /// A file is cut after a newline when one falls in its last 1 KiB (at most half of
    /// ``maxSize``), so lines stay whole in each file; long lines and binary output are cut at
    /// ``maxSize`` exactly. An existing log is appended to. Writes are `write(2)` calls from the
    /// read path, without fsync (``ChardevBroker/stop()`` syncs once).
    ///
    /// Write errors (disk full, I/O errors) never stop the console: the first one is logged
    /// once at error level, clients keep being served, the bytes not written are counted in
    /// ``ChardevBroker/Statistics/logBytesLost`` (with ``ChardevBroker/Statistics/logError``
    /// set), and every later write tries again. When one succeeds, a line
    /// `[virtkit: N bytes of console output were not logged: ERROR]` marks the hole in the
    /// file and the recovery is logged at warning level. A failed rename leaves the file in
    /// place and appends to it (logged once per attempt), never truncating it.
    public struct LogConfiguration: Sendable {
        /// `NAME.log`; backups are `NAME.log.1` and up.
        public var path: FilePath
        /// Bytes per file before rotation (default 2 MiB, virtlogd's); 0 never rotates.
        public var maxSize: Int
        /// Rotated files kept (default 3, virtlogd's); 0 deletes the full file on rotation.
        public var maxBackups: Int
        /// Mode of new log files (default 0600).
        public var permissions: FilePermissions

        public init(
            path: FilePath, maxSize: Int = 2 << 20, maxBackups: Int = 3,
            permissions: FilePermissions = [.ownerRead, .ownerWrite]
        ) {
            self.path = path
            self.maxSize = maxSize
            self.maxBackups = maxBackups
            self.permissions = permissions
        }
    }
}
