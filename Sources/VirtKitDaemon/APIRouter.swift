import Foundation
import Hummingbird
import NIOCore
import VirtKitAPI
import VirtKitRuntime

/// The HTTP/JSON API (docs/openapi.yaml) over the hypervisor. Every answer is JSON (or the
/// domain XML for `/xml`); every failure is `{"error": {"code", "message"}}` with libvirt's wording.
enum APIRouter {
    static func make(hypervisor: Hypervisor, mode: String) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/v1/version") { _, _ in
            json(VersionInfo(virtkit: VirtKitVersion.string, mode: mode, pid: ProcessInfo.processInfo.processIdentifier))
        }
        router.get("/v1/domains") { request, _ in
            let all = request.uri.queryParameters["all"].map { $0 == "true" || $0 == "1" } ?? false
            return json(await hypervisor.list(all: all))
        }
        router.post("/v1/domains") { request, _ in
            await answer {
                let body = try await collect(request)
                let summary = try await hypervisor.define(xml: body)
                var answer = json(summary)
                // The defined domain's own path: the CLI's front names it from this header.
                answer.headers[.contentLocation] = APIPath.domain(summary.name)
                return answer
            }
        }
        router.get("/v1/domains/:name") { _, context in
            await answer { json(try await hypervisor.info(name: try name(context))) }
        }
        router.delete("/v1/domains/:name") { _, context in
            await answer {
                let name = try name(context)
                try await hypervisor.undefine(name: name)
                return json(["undefined": name])
            }
        }
        router.get("/v1/domains/:name/state") { _, context in
            await answer { json(try await hypervisor.state(name: try name(context))) }
        }
        router.get("/v1/domains/:name/monitor") { _, context in
            await answer { json(try await hypervisor.monitorInfo(name: try name(context))) }
        }
        addStreamRoutes(router, hypervisor: hypervisor)
        addConsoleRoutes(router, hypervisor: hypervisor)
        router.get("/v1/domains/:name/xml") { request, context in
            await answer {
                let inactive = request.uri.queryParameters["inactive"].map { $0 == "true" || $0 == "1" } ?? false
                let xml = try await hypervisor.xml(name: try name(context), inactive: inactive)
                var headers = HTTPFields()
                headers[.contentType] = "application/xml; charset=utf-8"
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: xml)))
            }
        }
        router.post("/v1/domains/:name/:action") { request, context in
            await answer {
                let name = try name(context)
                guard let raw = context.parameters.get("action"), let action = DomainAction(rawValue: raw) else {
                    throw APIError(.invalidArgument, "unknown domain action '\(context.parameters.get("action") ?? "")'")
                }
                let body = try await collect(request)
                switch action {
                case .start:
                    let options = try decode(StartRequest.self, body) ?? StartRequest()
                    return json(try await hypervisor.start(name: name, paused: options.paused))
                case .shutdown:
                    let options = try decode(ShutdownRequest.self, body) ?? ShutdownRequest()
                    return json(try await hypervisor.shutdown(name: name, options: options))
                case .destroy: return json(try await hypervisor.destroy(name: name))
                case .reboot: return json(try await hypervisor.reboot(name: name))
                case .suspend: return json(try await hypervisor.suspend(name: name))
                case .resume: return json(try await hypervisor.resume(name: name))
                }
            }
        }
        return router
    }

    static func name(_ context: BasicRequestContext) throws(APIError) -> String {
        guard let raw = context.parameters.get("name"), let name = raw.removingPercentEncoding else {
            throw APIError(.invalidArgument, "missing domain name")
        }
        return name
    }

    static func collect(_ request: Request) async throws(APIError) -> String {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: 16 << 20)
        } catch {
            throw APIError(.invalidArgument, "cannot read request body (at most 16 MiB): \(error)")
        }
        // As libxml2 refuses such input for libvirt: bytes that are not UTF-8 are not replaced.
        guard let text = String(validating: buffer.readableBytesView, as: UTF8.self) else {
            throw APIError(.xmlError, "XML error: the request body is not proper UTF-8")
        }
        return text
    }

    static func decode<T: Decodable>(_ type: T.Type, _ body: String) throws(APIError) -> T? {
        if body.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return nil }
        do {
            return try JSONDecoder().decode(type, from: Data(body.utf8))
        } catch {
            throw APIError(.invalidArgument, "invalid JSON request body: \(error)")
        }
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
