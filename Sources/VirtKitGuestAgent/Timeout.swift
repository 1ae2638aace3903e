extension GuestAgent.Client {
    /// How long a call waits for the agent's reply, as libvirt's agent commands count it
    /// (`virDomainQemuAgentCommand`'s `timeout`).
    ///
    /// The timeout bounds each wait of a call separately: for its turn behind other calls
    /// (``noWait``: the default), for the sync handshake (at most the default, as libvirt
    /// syncs), and for the reply.
    public enum Timeout: Sendable, Hashable {
        /// Wait for the reply as long as it takes (libvirt's -2,
        /// VIR_DOMAIN_QEMU_AGENT_COMMAND_BLOCK).
        case block
        /// The client's ``GuestAgent/Client/responseTimeout`` (libvirt's -1, ..._DEFAULT).
        case `default`
        /// Send the command and return at once without its reply (libvirt's 0, ..._NOWAIT).
        /// The reply, when one comes, is discarded by the next call's sync.
        case noWait
        /// Wait at most this many seconds (libvirt's N > 0). Zero or less acts as ``noWait``.
        case seconds(Int)

        /// The timeout for libvirt's number: -2 block, -1 default, 0 no wait, N > 0 seconds.
        /// Below -2 blocks, as libvirt's `qemuAgentSend` does with such a value.
        public init(libvirt value: Int) {
            switch value {
            case ..<(-1): self = .block
            case -1: self = .default
            case 0: self = .noWait
            default: self = .seconds(value)
            }
        }

        /// How long to wait for the reply; nil for ever, `.zero` for not at all.
        func replyWait(default fallback: Duration) -> Duration? {
            switch self {
            case .block: nil
            case .default: fallback
            case .noWait: .zero
            case .seconds(let seconds): .seconds(max(0, seconds))
            }
        }

        /// How long to wait for the sync handshake: the default, or less when the timeout is
        /// shorter (libvirt's `qemuAgentGuestSync`).
        func syncWait(default fallback: Duration) -> Duration {
            guard let wait = replyWait(default: fallback), wait > .zero else { return fallback }
            return min(wait, fallback)
        }

        /// How long to wait for the call's turn: as for the reply, the default for ``noWait``.
        func turnWait(default fallback: Duration) -> Duration? {
            guard let wait = replyWait(default: fallback) else { return nil }
            return wait > .zero ? wait : fallback
        }
    }
}
