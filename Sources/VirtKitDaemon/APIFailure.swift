import Hummingbird
import VirtKitAPI
import VirtKitRuntime

/// An error answer of the HTTP API: the runtime's error, or one of the API's own (a bad path, a
/// bad body), as an HTTP status and `{"error": {"code", "message"}}`. Only this layer knows HTTP:
/// the runtime's ``RuntimeError`` says what went wrong in libvirt's terms, and this maps it.
struct APIFailure: HTTPResponseError {
    var error: APIError

    init(_ error: APIError) { self.error = error }

    init(_ error: RuntimeError) { self.error = APIError(error) }

    /// Anything else that escaped a handler: an internal error, its text kept.
    init(unexpected error: any Error) {
        switch error {
        case let error as APIError: self.init(error)
        case let error as RuntimeError: self.init(error)
        default: self.init(APIError(.internalError, "internal error: \(error)"))
        }
    }

    var status: HTTPResponse.Status { .init(code: error.httpStatus) }

    func response(from request: Request, context: some RequestContext) throws -> Response { response }

    /// The answer itself.
    var response: Response { APIRouter.json(APIErrorBody(error: error), status: status) }
}

extension APIError {
    /// The runtime's error on the API's wire: the same libvirt error, the same message.
    init(_ error: RuntimeError) {
        self.init(Self.code(error.code), error.message)
    }

    static func code(_ code: RuntimeError.Code) -> Code {
        switch code {
        case .noDomain: .noDomain
        case .operationInvalid: .operationInvalid
        case .operationFailed: .operationFailed
        case .operationTimeout: .operationTimeout
        case .xmlError: .xmlError
        case .configUnsupported: .configUnsupported
        case .domainExists: .domainExists
        case .internalError: .internalError
        case .systemError: .systemError
        case .invalidArgument: .invalidArgument
        case .agentUnresponsive: .agentUnresponsive
        case .argumentUnsupported: .argumentUnsupported
        case .noNetwork: .noNetwork
        case .networkExists: .networkExists
        }
    }
}

extension APIRouter {
    /// Runs a runtime call where the API's own error is thrown (the stream resolver's).
    static func runtime<T>(_ body: () async throws(RuntimeError) -> T) async throws(APIError) -> T {
        do {
            return try await body()
        } catch {
            throw APIError(error)
        }
    }
}
