/// The error of the domain layer: a code modelled on libvirt's error numbers and a message that
/// names the element, attribute or value at fault, worded as libvirt words it where it has one.
public struct DomainError: Error, Equatable, Sendable, CustomStringConvertible {
    /// libvirt's error classes that the domain layer can raise.
    public enum Code: String, Sendable, Codable {
        /// VIR_ERR_XML_ERROR: "XML error: ..."
        case xmlError
        /// VIR_ERR_CONFIG_UNSUPPORTED: "unsupported configuration: ..."
        case configUnsupported
        /// VIR_ERR_INTERNAL_ERROR: "internal error: ..."
        case internalError
        /// VIR_ERR_INVALID_ARG: "invalid argument: ..."
        case invalidArgument
        /// VIR_ERR_XML_DETAIL: no prefix.
        case xmlDetail
        /// An error whose message stands alone (e.g. address parsing).
        case operationFailed
    }

    public var code: Code
    /// The detail, without libvirt's class prefix.
    public var detail: String

    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    /// The message as libvirt prints it: the class prefix, then the detail.
    public var message: String {
        switch code {
        case .xmlError: return "XML error: " + detail
        case .configUnsupported: return "unsupported configuration: " + detail
        case .internalError: return "internal error: " + detail
        case .invalidArgument: return "invalid argument: " + detail
        case .xmlDetail, .operationFailed: return detail
        }
    }

    public var description: String { message }

    public static func missingAttribute(_ attr: String, _ element: String) -> DomainError {
        DomainError(.xmlError, "Missing required attribute '\(attr)' in element '\(element)'")
    }

    public static func invalidValue(_ attr: String, _ element: String, _ value: String) -> DomainError {
        DomainError(.xmlError, "Invalid value for attribute '\(attr)' in element '\(element)': '\(value)'.")
    }

    public static func invalidUnsigned(_ attr: String, _ element: String, _ value: String) -> DomainError {
        DomainError(.xmlError,
                    "Invalid value for attribute '\(attr)' in element '\(element)': '\(value)'. Expected non-negative integer value")
    }
}
