extension ChardevBroker {
    /// A broker's counters and state, for status reports.
    public struct Statistics: Sendable, Hashable {
        /// Bytes read from QEMU's side.
        public var bytesFromGuest = 0
        /// Bytes clients sent to QEMU's side.
        public var bytesToGuest = 0
        /// Clients attached now (served sockets included).
        public var clients = 0
        /// Bytes of scrollback held now.
        public var scrollbackBytes = 0
        /// Whether QEMU's side is still open.
        public var peerOpen = false
        /// Bytes of output the log could not write (disk full, I/O errors).
        public var logBytesLost = 0
        /// The log's current write error, nil while writes succeed (or there is no log).
        public var logError: String?

        public init(
            bytesFromGuest: Int = 0, bytesToGuest: Int = 0, clients: Int = 0, scrollbackBytes: Int = 0,
            peerOpen: Bool = false, logBytesLost: Int = 0, logError: String? = nil
        ) {
            self.bytesFromGuest = bytesFromGuest
            self.bytesToGuest = bytesToGuest
            self.clients = clients
            self.scrollbackBytes = scrollbackBytes
            self.peerOpen = peerOpen
            self.logBytesLost = logBytesLost
            self.logError = logError
        }
    }
}
