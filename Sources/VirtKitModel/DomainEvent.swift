/// Something that happened to a domain, as libvirt's lifecycle events name it: what a client
/// watching the daemon (`virsh event`, python-libvirt's callbacks) is told.
public struct DomainEvent: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Defined anew, or its definition replaced.
        case defined(updated: Bool)
        case undefined
        /// QEMU started; a start with `paused` is followed by ``suspended``.
        case started
        case suspended
        case resumed
        /// QEMU is gone, with the reason the domain is now shut off.
        case stopped(DomainStateReason)
        /// The machine was reset (a reboot, or `reset`): libvirt's REBOOT event.
        case rebooted
        /// The guest agent opened (true) or closed its channel: libvirt's AGENT_LIFECYCLE.
        case agent(connected: Bool)
    }

    /// The domain as it was when it happened (a running domain's id included).
    public var domain: DomainSummary
    public var kind: Kind

    public init(domain: DomainSummary, kind: Kind) {
        self.domain = domain
        self.kind = kind
    }
}
