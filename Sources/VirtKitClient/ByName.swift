import SystemPackage
import VirtKitAPI
import VirtKitHost

/// `<run>/by-name/NAME`: the run directory of a running guest, which the daemon links by name
/// so a client that knows only the name reaches its sockets without an API round trip.
public enum ByName {
    /// Connects to the socket at `components` under the guest's run directory; nil when a
    /// name could leave the directory or nothing listens there.
    public static func connect(address: DaemonAddress, domain: String, _ components: [String]) -> FileDescriptor? {
        let safe = { (text: String) in !text.isEmpty && !text.contains("/") && !text.hasPrefix(".") }
        guard safe(domain), components.allSatisfy(safe) else { return nil }
        // String work, not FilePath's parsing: this runs in every one-shot command.
        let socketPath = address.socketPath(environment: DaemonAddress.processEnvironment())
        guard let slash = socketPath.lastIndex(of: "/") else { return nil }
        let path = ([String(socketPath[..<slash]), "by-name", domain] + components).joined(separator: "/")
        return try? UnixSocket.connect(to: FilePath(path))
    }
}
