/// How a client attaches to a console: whether, and on what terms, it may type.
///
/// The pen rules: at most one ``readWrite(force:)`` client holds the pen at a time; a second
/// one is refused unless it forces, which takes the pen (the old holder is told with
/// ``BrokerOutput/penLost(to:)`` and stays attached read-only). ``shared`` clients type
/// alongside whoever holds the pen and are never refused or demoted. ``readOnly`` clients
/// never type.
public enum ClientMode: Sendable, Hashable, CustomStringConvertible {
    /// Types with the pen, like `virsh console`; `force` takes it from the current holder.
    case readWrite(force: Bool)
    /// Types alongside the pen holder and other shared clients.
    case shared
    /// Only watches.
    case readOnly

    /// Whether the client may ever send bytes to the guest.
    public var mayWrite: Bool {
        if case .readOnly = self { return false }
        return true
    }

    public var description: String {
        switch self {
        case .readWrite(let force): force ? "read-write (forced)" : "read-write"
        case .shared: "shared"
        case .readOnly: "read-only"
        }
    }
}
