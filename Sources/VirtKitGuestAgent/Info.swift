import VirtKitQMP

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

        init(_ value: QMP.Value) throws(GuestAgent.Error) {
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

    /// What `guest-get-osinfo` says (os-release and uname); each member may be missing.
    public struct OSInfo: Sendable, Hashable {
        /// `id`, e.g. `debian`.
        public var id: String?
        /// `name`, e.g. `Debian GNU/Linux`.
        public var name: String?
        /// `pretty-name`.
        public var prettyName: String?
        /// `version`.
        public var version: String?
        /// `version-id`.
        public var versionID: String?
        /// `variant`.
        public var variant: String?
        /// `variant-id`.
        public var variantID: String?
        /// `kernel-release` (uname -r).
        public var kernelRelease: String?
        /// `kernel-version` (uname -v).
        public var kernelVersion: String?
        /// `machine` (uname -m), e.g. `x86_64`.
        public var machine: String?

        public init(
            id: String? = nil, name: String? = nil, prettyName: String? = nil, version: String? = nil,
            versionID: String? = nil, variant: String? = nil, variantID: String? = nil,
            kernelRelease: String? = nil, kernelVersion: String? = nil, machine: String? = nil
        ) {
            self.id = id
            self.name = name
            self.prettyName = prettyName
            self.version = version
            self.versionID = versionID
            self.variant = variant
            self.variantID = variantID
            self.kernelRelease = kernelRelease
            self.kernelVersion = kernelVersion
            self.machine = machine
        }

        init(_ value: QMP.Value) throws(GuestAgent.Error) {
            guard value.object != nil else { throw .malformed(raw: GuestAgent.Error.excerpt(value.jsonBytes)) }
            self.init(
                id: value["id"]?.string, name: value["name"]?.string, prettyName: value["pretty-name"]?.string,
                version: value["version"]?.string, versionID: value["version-id"]?.string,
                variant: value["variant"]?.string, variantID: value["variant-id"]?.string,
                kernelRelease: value["kernel-release"]?.string, kernelVersion: value["kernel-version"]?.string,
                machine: value["machine"]?.string)
        }
    }

    /// How `guest-shutdown` stops the guest (its `mode`).
    public enum ShutdownMode: String, Sendable, Hashable, CaseIterable {
        /// `powerdown`: power off (the agent's default).
        case powerdown
        /// `reboot`.
        case reboot
        /// `halt`: stop without powering off.
        case halt
    }
}
