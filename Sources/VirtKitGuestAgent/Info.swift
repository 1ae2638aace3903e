import VirtKitJSON

extension GuestAgent {
    /// What `guest-info` says: the agent's version and its commands.
    public struct Info: Sendable, Hashable {
        /// One command the agent knows.
        public struct Command: Sendable, Hashable {
            /// `name`, e.g. `guest-ping`.
            public var name: String
            /// `enabled`: false when blocked (qemu-ga's `--block-rpcs`, or frozen filesystems).
            public var enabled: Bool
            /// `success-response`: false for commands that answer only when they fail.
            public var successResponse: Bool

            public init(name: String, enabled: Bool, successResponse: Bool) {
                self.name = name
                self.enabled = enabled
                self.successResponse = successResponse
            }
        }

        /// `version`, e.g. `7.2.19`.
        public var version: String
        /// `supported_commands`, in the agent's order.
        public var commands: [Command]

        public init(version: String, commands: [Command]) {
            self.version = version
            self.commands = commands
        }

        /// Whether the agent knows `name` and has it enabled.
        public func supports(_ name: String) -> Bool {
            commands.contains { $0.name == name && $0.enabled }
        }

        init(_ value: JSONValue) throws(GuestAgent.Error) {
            guard let version = value["version"]?.string, let list = value["supported_commands"]?.array else {
                throw .malformed(raw: GuestAgent.Error.excerpt(value.jsonBytes))
            }
            var commands: [Command] = []
            for entry in list {
                guard let name = entry["name"]?.string else { throw .malformed(raw: GuestAgent.Error.excerpt(value.jsonBytes)) }
                commands.append(Command(name: name, enabled: entry["enabled"]?.bool ?? true,
                                        successResponse: entry["success-response"]?.bool ?? true))
            }
            self.init(version: version, commands: commands)
        }
    }
}
