import Foundation
import Hummingbird
import NIOCore
import OpenAPIHummingbird
import OpenAPIRuntime
import VirtKitAPI
import VirtKitOpenAPI
import VirtKitRuntime

/// The HTTP/JSON API (docs/openapi.yaml) over the hypervisor. Every answer is JSON (or the
/// domain XML for `/xml`); every failure is `{"error": {"code", "message"}}` with libvirt's wording.
enum APIRouter {
    static func make(hypervisor: Hypervisor, mode: Components.Schemas.VersionInfo.modePayload) throws -> Router<BasicRequestContext> {
        let router = Router()
        // The operations of docs/openapi.yaml, routed and decoded by the generated code.
        let handlers = APIHandlers(hypervisor: hypervisor, mode: mode)
        try handlers.registerHandlers(on: router, configuration: Configuration(jsonEncodingOptions: [.sortedKeys]),
                                      middlewares: [APIMiddleware()])
        // The streams are HTTP upgrades, which the document describes but cannot generate.
        addStreamRoutes(router, hypervisor: hypervisor)
        // Any other action on a domain: the document's 400, not the router's bare 404.
        router.post("/v1/domains/:name/:action") { _, context in
            await answer {
                throw APIError(.invalidArgument, "unknown domain action '\(context.parameters.get("action") ?? "")'")
            }
        }
        return router
    }

    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: encode(value)))
    }

    /// `value` as the API's JSON (sorted keys).
    static func encode<T: Encodable>(_ value: T) -> ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return ByteBuffer(bytes: (try? encoder.encode(value)) ?? Data("{}".utf8))
    }

    /// Runs `body`, turning a ``RuntimeError``, an ``APIError`` (or anything else) into the JSON
    /// error answer (``APIFailure``).
    static func answer(_ body: () async throws -> Response) async -> Response {
        do {
            return try await body()
        } catch {
            return APIFailure(unexpected: error).response
        }
    }
}

/// The version reported by `virtkit --version` and `GET /v1/version`.
public enum VirtKitVersion {
    public static let string = "0.2.0"
}
