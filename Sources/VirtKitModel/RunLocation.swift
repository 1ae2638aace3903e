#if canImport(Glibc)
import Glibc
#endif

/// Where a virtkitd keeps its run-time files (API socket, guest run directories, status): the
/// daemon makes them there and its clients find the socket there.
public enum RunLocation {
    /// The system daemon's run directory.
    public static let systemDirectory = "/run/virtkit"
    /// The API socket's name in the run directory.
    public static let socketName = "virtkitd.sock"

    /// A session daemon's run directory: `$XDG_RUNTIME_DIR/virtkit`, else `/tmp/virtkit-UID`.
    public static func sessionDirectory(environment: [String: String]) -> String {
        if let runtime = environment["XDG_RUNTIME_DIR"], runtime.hasPrefix("/") { return runtime + "/virtkit" }
        return "/tmp/virtkit-\(getuid())"
    }
}
