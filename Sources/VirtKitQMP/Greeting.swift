extension QMP {
    /// QEMU's first message: `{"QMP": {"version": ..., "capabilities": [...]}}`.
    public struct Greeting: Sendable, Equatable {
        /// The QEMU version.
        public var version: QMP.Version
        /// Capabilities QEMU offers, e.g. `["oob"]`. The client enables none of them.
        public var capabilities: [String]

        public init(version: QMP.Version, capabilities: [String]) {
            self.version = version
            self.capabilities = capabilities
        }

        /// Reads a greeting message; nil when `message` has no `QMP` member or no version.
        public init?(message: QMP.Value) {
            guard let body = message["QMP"], let versionValue = body["version"],
                let version = QMP.Version(versionValue)
            else { return nil }
            let capabilities = body["capabilities"]?.array?.compactMap(\.string) ?? []
            self.init(version: version, capabilities: capabilities)
        }
    }
}
