import VirtKitAPI

extension DaemonAddress {
    /// The daemon a command talks to, as virsh chooses: `-c URI` (`connect`), else
    /// `VIRTKIT_DEFAULT_URI`, else system for root and session for everyone else. nil for a URI
    /// VirtKit does not know.
    public static func chosen(connect: String?) -> DaemonAddress? {
        if let connect { return DaemonAddress(uri: connect) }
        return DaemonAddress.fromEnvironment(DaemonAddress.processEnvironment()) ?? .session
    }

    /// virsh takes `-c URI` before the verb (`virsh -c URI list`); the verbs declare it, so it is
    /// moved behind the verb.
    public static func connectionAfterVerb(_ arguments: [String]) -> [String] {
        guard arguments.count >= 3, arguments[0] == "-c" || arguments[0] == "--connect" else { return arguments }
        return [arguments[2], arguments[0], arguments[1]] + arguments.dropFirst(3)
    }
}
