import Foundation
import HTTPTypes
import OpenAPIRuntime
import VirtKitAPI
import VirtKitOpenAPI
import VirtKitRuntime

/// What the API promises around every generated operation (docs/openapi.yaml, "Conventions"),
/// which the generated code alone does not do:
/// - a request body is read whole, at most 16 MiB, and must be UTF-8 (as libxml2 refuses other
///   bytes for libvirt); an empty or blank body is no body, so optional bodies take their defaults;
/// - the request's `Content-Type` and `Accept` are not checked;
/// - a path parameter whose percent-escapes do not decode is `400 invalid-arg`;
/// - every failure is `{"error": {"code", "message"}}` with the code's status (``APIFailure``):
///   the runtime's errors as they are, a body the document refuses as `invalid-arg`.
struct APIMiddleware: ServerMiddleware {
    static let bodyLimit = 16 << 20

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        do {
            try Self.checkEscapes(metadata)
            var request = request
            request.headerFields[.contentType] = nil
            request.headerFields[.accept] = nil
            var (response, answer) = try await next(request, try await Self.readBody(body), metadata)
            // The generated code percent-encodes header values; Content-Location is a path that
            // is percent-encoded already (APIPath.domain).
            if let location = response.headerFields[.contentLocation] {
                response.headerFields[.contentLocation] = location.removingPercentEncoding ?? location
            }
            return (response, answer)
        } catch {
            let failure = APIFailure(unexpected: Self.apiError(error))
            return (HTTPResponse(status: .init(code: failure.error.httpStatus), headerFields: [.contentType: "application/json"]),
                    HTTPBody(Array(APIRouter.encode(APIErrorBody(error: failure.error)).readableBytesView)))
        }
    }

    /// The body read whole (nil when it is empty or blank), or the API's error.
    static func readBody(_ body: HTTPBody?) async throws(APIError) -> HTTPBody? {
        guard let body else { return nil }
        let bytes: [UInt8]
        do {
            bytes = try await [UInt8](collecting: body, upTo: bodyLimit)
        } catch {
            throw APIError(.invalidArgument, "cannot read request body (at most 16 MiB): \(error)")
        }
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw APIError(.xmlError, "XML error: the request body is not proper UTF-8")
        }
        let blank: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0D]
        return bytes.allSatisfy(blank.contains) ? nil : HTTPBody(bytes)
    }

    /// Refuses a path parameter (a domain or device name) whose escapes cannot be decoded: the
    /// generated decoder would read it as an empty name.
    static func checkEscapes(_ metadata: ServerRequestMetadata) throws(APIError) {
        for (key, raw) in metadata.pathParameters.sorted(by: { $0.key < $1.key }) {
            guard let value = String(raw).removingPercentEncoding, !value.isEmpty else {
                throw APIError(.invalidArgument, "invalid \(key) in path: '\(raw)' is empty or not percent-encoded UTF-8")
            }
        }
    }

    /// What a thrown error is on the API: the runtime's and the API's own as they are; the
    /// generated code's (a body or parameter the document refuses) as `invalid-arg`.
    static func apiError(_ error: any Error) -> any Error {
        guard let error = error as? ServerError else { return error }
        switch error.underlyingError {
        case let error as RuntimeError: return error
        case let error as APIError: return error
        case let error as DecodingError: return APIError(.invalidArgument, "invalid JSON request body: \(error)")
        case let error as UnrepresentableValue: return APIError(.internalError, "internal error: \(error)")
        case let error as any (Error & CustomStringConvertible):
            let text = "\(error)"
            if text.localizedCaseInsensitiveContains("missing required request body") {
                return APIError(.invalidArgument, "missing request body")
            }
            return APIError(.invalidArgument, "invalid request: \(text)")
        default:
            return APIError(.invalidArgument, "invalid request: \(error.underlyingError)")
        }
    }
}
