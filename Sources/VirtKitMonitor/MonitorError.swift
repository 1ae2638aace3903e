import SystemPackage

/// Why a ``MonitorServer`` could not start.
///
/// TCP trouble is not among them: when no port pair can be bound the server runs on its UNIX
/// sockets alone and says why in ``MonitorServer/tcpDisabledReason``.
public enum MonitorError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A UNIX socket path longer than the 107 bytes `sockaddr_un` holds.
    case socketPathTooLong(path: FilePath, length: Int)
    /// Binding the UNIX socket at `path` failed.
    case bindFailed(path: FilePath, errno: Errno)
    /// Setting mode 0600 on the UNIX socket at `path` failed.
    case permissionsFailed(path: FilePath, errno: Errno)
    /// A configuration value out of range (names the field and the value).
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case .socketPathTooLong(let path, let length):
            "monitor socket path \(path.string) is \(length) bytes, longer than the "
                + "\(MonitorServer.Configuration.maxSocketPathLength) a UNIX socket allows"
        case .bindFailed(let path, let errno):
            "cannot bind monitor socket \(path.string): \(errno)"
        case .permissionsFailed(let path, let errno):
            "cannot set mode 0600 on monitor socket \(path.string): \(errno)"
        case .invalidConfiguration(let message):
            "invalid monitor configuration: \(message)"
        }
    }
}
