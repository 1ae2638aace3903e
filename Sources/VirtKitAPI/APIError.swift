/// The one error type above the wire protocols, modelled on libvirt's error numbers. It crosses
/// the API as JSON, so the CLI prints the daemon's message unchanged.
public struct APIError: Error, Codable, Sendable, Equatable, CustomStringConvertible {
    /// libvirt's `virErrorNumber`, by name.
    public enum Code: String, Codable, Sendable {
        case noDomain = "no-domain"
        case operationInvalid = "operation-invalid"
        case operationFailed = "operation-failed"
        case operationTimeout = "operation-timeout"
        case xmlError = "xml-error"
        case configUnsupported = "config-unsupported"
        case domainExists = "domain-exists"
        case internalError = "internal-error"
        case systemError = "system-error"
        case invalidArgument = "invalid-arg"
        case noConnect = "no-connect"
        /// libvirt's VIR_ERR_AGENT_UNRESPONSIVE: the guest agent is not connected or timed out.
        case agentUnresponsive = "agent-unresponsive"
        /// libvirt's VIR_ERR_ARGUMENT_UNSUPPORTED.
        case argumentUnsupported = "argument-unsupported"
        /// libvirt's VIR_ERR_NO_NETWORK.
        case noNetwork = "no-network"
        /// libvirt's VIR_ERR_NETWORK_EXIST.
        case networkExists = "network-exists"
    }

    public var code: Code
    /// What is wrong, naming the element, attribute, value, path or domain at fault.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// The HTTP status the daemon answers with.
    public var httpStatus: Int {
        switch code {
        case .noDomain, .noNetwork: return 404
        case .domainExists, .networkExists, .operationInvalid: return 409
        case .xmlError, .configUnsupported, .invalidArgument, .argumentUnsupported: return 400
        case .agentUnresponsive: return 503
        case .operationTimeout: return 504
        case .noConnect: return 503
        case .operationFailed, .internalError, .systemError: return 500
        }
    }
}

/// The body of an error answer: `{"error": {...}}`.
public struct APIErrorBody: Codable, Sendable {
    public var error: APIError
    public init(error: APIError) { self.error = error }
}
