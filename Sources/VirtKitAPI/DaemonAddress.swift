import VirtKitModel
#if canImport(Glibc)
import Glibc
#endif

/// Where a virtkitd listens, and the connection URIs that name one (virsh's `-c URI`):
/// `virtkit:///system`, `virtkit:///session`, `virtkit+unix:///path/to/socket`.
public enum DaemonAddress: Sendable, Equatable {
    case system
    case session
    case socket(String)

    /// Parses a connection URI; nil when it is not one VirtKit knows.
    public init?(uri: String) {
        switch uri {
        case "virtkit:///system", "qemu:///system": self = .system
        case "virtkit:///session", "qemu:///session": self = .session
        default:
            let prefix = "virtkit+unix://"
            guard uri.hasPrefix(prefix) else { return nil }
            let path = String(uri.dropFirst(prefix.count))
            guard path.hasPrefix("/"), path.count > 1 else { return nil }
            self = .socket(path)
        }
    }

    /// The default when no `-c` is given: `VIRTKIT_DEFAULT_URI`, else system for root and
    /// session for everyone else (as libvirt does).
    public static func fromEnvironment(_ environment: [String: String], uid: UInt32 = getuid()) -> DaemonAddress? {
        if let uri = environment["VIRTKIT_DEFAULT_URI"], !uri.isEmpty { return DaemonAddress(uri: uri) }
        return uid == 0 ? .system : .session
    }

    /// The variables that choose a daemon (`VIRTKIT_DEFAULT_URI`, `XDG_RUNTIME_DIR`), read with
    /// getenv: cheaper than all of Foundation's process environment in a one-request process.
    public static func processEnvironment() -> [String: String] {
        var environment: [String: String] = [:]
        for key in ["VIRTKIT_DEFAULT_URI", "XDG_RUNTIME_DIR"] {
            if let value = getenv(key) { environment[key] = String(cString: value) }
        }
        return environment
    }

    public func socketPath(environment: [String: String]) -> String {
        switch self {
        case .system: return RunLocation.systemDirectory + "/" + RunLocation.socketName
        case .session: return RunLocation.sessionDirectory(environment: environment) + "/" + RunLocation.socketName
        case .socket(let path): return path
        }
    }
}
