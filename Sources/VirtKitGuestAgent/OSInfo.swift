import VirtKitJSON

extension GuestAgent {
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

        init(_ value: JSONValue) throws(GuestAgent.Error) {
            guard value.object != nil else { throw .malformed(raw: GuestAgent.Error.excerpt(value.jsonBytes)) }
            self.init(
                id: value["id"]?.string, name: value["name"]?.string, prettyName: value["pretty-name"]?.string,
                version: value["version"]?.string, versionID: value["version-id"]?.string,
                variant: value["variant"]?.string, variantID: value["variant-id"]?.string,
                kernelRelease: value["kernel-release"]?.string, kernelVersion: value["kernel-version"]?.string,
                machine: value["machine"]?.string)
        }
    }
}
