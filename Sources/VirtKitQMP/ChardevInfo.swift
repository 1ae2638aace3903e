extension QMP {
    /// One character device as `query-chardev` lists it.
    public struct ChardevInfo: Sendable, Equatable, Hashable {
        /// The chardev's id, e.g. "charserial0" or "compat_monitor0" for `-qmp`.
        public var label: String
        /// QEMU's description of the backend, e.g. "unix:/run/x.sock,server=on" or "pty:/dev/pts/3".
        public var filename: String
        /// Whether a frontend (device, monitor) has the chardev open.
        public var frontendOpen: Bool

        public init(label: String, filename: String, frontendOpen: Bool) {
            self.label = label
            self.filename = filename
            self.frontendOpen = frontendOpen
        }

        /// Reads `{"label": ..., "filename": ..., "frontend-open": ...}`; nil when a member is missing.
        public init?(_ value: QMP.Value) {
            guard let label = value["label"]?.string, let filename = value["filename"]?.string,
                let frontendOpen = value["frontend-open"]?.bool
            else { return nil }
            self.init(label: label, filename: filename, frontendOpen: frontendOpen)
        }
    }
}
