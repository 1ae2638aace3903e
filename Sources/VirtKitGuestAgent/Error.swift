extension GuestAgent {
    /// What went wrong talking to the guest agent, in the wire's terms.
    ///
    /// ``description`` is libvirt 9's message for the same condition (`virsh` prints it after
    /// `error: `), so a daemon can pass it through unchanged.
    public enum Error: Swift.Error, Sendable, Equatable, CustomStringConvertible {
        /// There is no connection to the agent's port: connecting failed (nothing listens at
        /// the path, a bad descriptor), or the connection was already closed (by ``Client/close()``
        /// or by QEMU) when the call started. libvirt: VIR_ERR_AGENT_UNRESPONSIVE.
        case notConnected
        /// No reply within the call's timeout (`command` is the caller's command, also when the
        /// sync handshake before it was what went unanswered). The channel is resynchronised
        /// before the next command. libvirt: VIR_ERR_AGENT_UNRESPONSIVE.
        case timedOut(command: String)
        /// The agent answered `{"error": {"class": ..., "desc": ...}}` to `command`.
        /// libvirt: VIR_ERR_INTERNAL_ERROR.
        case commandFailed(command: String, class: String, description: String)
        /// A reply that is not a JSON object with `return` or `error`, or (for
        /// ``Client/executeRaw(json:timeout:)``) a command text that is not JSON; `raw` holds
        /// (the start of) the text. libvirt: VIR_ERR_INTERNAL_ERROR.
        case malformed(raw: String)
        /// The connection closed while the call was waiting (QEMU exited or closed the
        /// chardev). libvirt: VIR_ERR_AGENT_UNRESPONSIVE.
        case disconnected

        public var description: String {
            switch self {
            case .notConnected:
                "Guest agent is not responding: QEMU guest agent is not connected"
            case .timedOut:
                "Guest agent is not responding: Guest agent not available for now"
            case .commandFailed(let command, _, let description):
                "internal error: unable to execute QEMU agent command '\(command)': \(description)"
            case .malformed(let raw):
                "internal error: malformed guest agent JSON: \(raw)"
            case .disconnected:
                "Guest agent is not responding: Guest agent disappeared while executing command"
            }
        }

        /// How much of an offending text ``malformed(raw:)`` keeps.
        static let excerptLength = 4096

        /// The start of `bytes` as text, for ``malformed(raw:)``.
        static func excerpt(_ bytes: some Collection<UInt8>) -> String {
            String(decoding: bytes.prefix(excerptLength), as: UTF8.self)
        }
    }
}
