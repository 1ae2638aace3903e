extension QMP {
    /// A QEMU version as the greeting and `query-version` report it.
    public struct Version: Sendable, Equatable, Hashable, CustomStringConvertible {
        public var major: Int
        public var minor: Int
        public var micro: Int
        /// The distribution's package string, e.g. "Debian 1:7.2+dfsg-7+deb12u18"; may be empty.
        public var package: String

        public init(major: Int, minor: Int, micro: Int, package: String = "") {
            self.major = major
            self.minor = minor
            self.micro = micro
            self.package = package
        }

        /// Reads `{"qemu": {"major": M, "minor": m, "micro": u}, "package": "..."}`; nil when
        /// a number is missing.
        public init?(_ value: QMP.Value) {
            guard let qemu = value["qemu"], let major = qemu["major"]?.int, let minor = qemu["minor"]?.int,
                let micro = qemu["micro"]?.int
            else { return nil }
            self.init(major: major, minor: minor, micro: micro, package: value["package"]?.string ?? "")
        }

        /// "major.minor.micro".
        public var description: String { "\(major).\(minor).\(micro)" }
    }
}
