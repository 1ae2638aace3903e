import SystemPackage

/// Why a broker could not start, or refused a client or its input.
///
/// Every message names the console (``ChardevBroker/Configuration/name``) so the CLI can print
/// it unchanged.
public enum BrokerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A second read-write client without `force`.
    case consoleInUse(console: String)
    /// A read-only client tried to write.
    case readOnly(console: String)
    /// A read-write client whose pen was taken by `by` tried to write.
    case penTaken(console: String, by: String)
    /// The broker already serves its limit of clients.
    case tooManyClients(console: String, limit: Int)
    /// The client detached (or its stream was cancelled) and cannot write any more.
    case detached(console: String)
    /// QEMU's side of the console is closed.
    case peerClosed(console: String)
    /// The broker is stopped.
    case stopped(console: String)
    /// The peer descriptor could not be prepared (`what`: fstat, termios, registration).
    case peerSetupFailed(console: String, what: String, errno: Errno)
    /// The log file could not be opened.
    case logOpenFailed(path: FilePath, errno: Errno)
    /// A configuration value is out of range.
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case .consoleInUse(let console):
            "the console of \(console) is in use by another client; use --force or --shared"
        case .readOnly(let console):
            "this client is attached to the console of \(console) read-only and cannot write"
        case .penTaken(let console, let by):
            "the console of \(console) was taken over by \(by); this client is now read-only"
        case .tooManyClients(let console, let limit):
            "the console of \(console) already has \(limit) clients (the limit)"
        case .detached(let console):
            "this client has detached from the console of \(console)"
        case .peerClosed(let console):
            "the console of \(console) is closed: the guest side hung up"
        case .stopped(let console):
            "the console of \(console) is no longer served"
        case .peerSetupFailed(let console, let what, let errno):
            "cannot serve the console of \(console): \(what) failed: \(errno)"
        case .logOpenFailed(let path, let errno):
            "cannot open the console log \(path): \(errno)"
        case .invalidConfiguration(let message):
            "invalid console broker configuration: \(message)"
        }
    }
}
