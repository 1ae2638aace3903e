/// What went wrong in the runtime, in libvirt's terms (its `virErrorNumber`s) and wording, with
/// the lower layer's error that caused it when there was one. Each front maps it to its wire:
/// the HTTP API to a status and a JSON body, libvirt's protocol to its error numbers.
public struct RuntimeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// libvirt's error numbers that the runtime reports.
    public enum Code: String, Sendable, CaseIterable {
        /// VIR_ERR_NO_DOMAIN.
        case noDomain
        /// VIR_ERR_OPERATION_INVALID: not in this state (start a running domain, ...).
        case operationInvalid
        /// VIR_ERR_OPERATION_FAILED.
        case operationFailed
        /// VIR_ERR_OPERATION_TIMEOUT.
        case operationTimeout
        /// VIR_ERR_XML_ERROR.
        case xmlError
        /// VIR_ERR_CONFIG_UNSUPPORTED.
        case configUnsupported
        /// VIR_ERR_DOM_EXIST.
        case domainExists
        /// VIR_ERR_INTERNAL_ERROR.
        case internalError
        /// VIR_ERR_SYSTEM_ERROR.
        case systemError
        /// VIR_ERR_INVALID_ARG.
        case invalidArgument
        /// VIR_ERR_AGENT_UNRESPONSIVE: the guest agent is not connected or timed out.
        case agentUnresponsive
        /// VIR_ERR_ARGUMENT_UNSUPPORTED.
        case argumentUnsupported
        /// VIR_ERR_NO_NETWORK.
        case noNetwork
        /// VIR_ERR_NETWORK_EXIST: a network of that name or uuid is defined (or active) already.
        case networkExists
    }

    public var code: Code
    /// What is wrong, naming the element, attribute, value, path or domain at fault.
    public var message: String
    /// The lower layer's error behind it (QMP, the guest agent, the host), for logs.
    public var cause: (any Error)?

    public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String { message }

    /// Equal when they say the same: code and message (the cause is for logs).
    public static func == (lhs: RuntimeError, rhs: RuntimeError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message
    }
}
