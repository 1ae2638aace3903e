import VirtKitModel

/// A domain's state and reason as libvirt's numbers (`virDomainState` and the per-state reason
/// enums of libvirt-domain.h), which virsh turns back into words.
public struct LibvirtDomainState: Equatable, Sendable {
    public var state: Int32
    public var reason: Int32

    public init(state: Int32, reason: Int32) {
        self.state = state
        self.reason = reason
    }

    /// VIR_DOMAIN_RUNNING, PAUSED, SHUTDOWN, SHUTOFF, CRASHED.
    public static let running: Int32 = 1, paused: Int32 = 3, shutdown: Int32 = 4, shutoff: Int32 = 5, crashed: Int32 = 6

    public init(_ state: DomainState, _ reason: DomainStateReason) {
        switch state {
        case .running:
            let running: Int32 = switch reason {
            case .booted: 1
            case .fromSnapshot: 4
            case .userRequested: 5  // unpaused
            default: 0
            }
            self.init(state: Self.running, reason: running)
        case .paused:
            self.init(state: Self.paused, reason: reason == .userRequested ? 1 : reason == .fromSnapshot ? 7 : 0)
        case .starting:
            // libvirt shows a domain it is still starting as paused, "starting up".
            self.init(state: Self.paused, reason: 11)
        case .inShutdown:
            self.init(state: Self.shutdown, reason: 1)
        case .crashed:
            self.init(state: Self.crashed, reason: 0)
        case .shutoff:
            let shutoff: Int32 = switch reason {
            case .shutdown: 1
            case .destroyed: 2
            case .crashed: 3
            case .failed: 6
            case .fromSnapshot: 7
            case .daemonRestart: 8
            default: 0
            }
            self.init(state: Self.shutoff, reason: shutoff)
        }
    }

    /// Whether libvirt counts the domain as active (it has a QEMU process).
    public var isActive: Bool { state != Self.shutoff && state != Self.crashed }
}

/// virConnectListAllDomainsFlags: pairs of filters, each pair filtering only when one of its
/// two bits is set.
public struct ListAllDomainsFilter: Sendable {
    public var flags: UInt32

    public init(flags: UInt32) { self.flags = flags }

    /// Every flag libvirt 9.0 defines.
    public static let known: UInt32 = 0xFFFF

    /// Whether a domain with these properties passes. VirtKit has no managed save, snapshots
    /// or checkpoints: those filters see "none".
    public func admits(state: LibvirtDomainState, persistent: Bool, autostart: Bool = false) -> Bool {
        func pair(_ yes: UInt32, _ no: UInt32, _ value: Bool) -> Bool {
            let both = yes | no
            return flags & both == 0 || (value ? flags & yes != 0 : flags & no != 0)
        }
        guard pair(1, 2, state.isActive), pair(4, 8, persistent), pair(256, 512, false), pair(1024, 2048, autostart),
              pair(4096, 8192, false), pair(16384, 32768, false) else { return false }
        let byState: UInt32 = 16 | 32 | 64 | 128
        guard flags & byState != 0 else { return true }
        let bit: UInt32 = switch state.state {
        case LibvirtDomainState.running: 16
        case LibvirtDomainState.paused: 32
        case LibvirtDomainState.shutoff: 64
        default: 128
        }
        return flags & bit != 0
    }
}
