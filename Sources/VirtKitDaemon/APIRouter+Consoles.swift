import Hummingbird
import NIOCore
import SystemPackage
import VirtKitAPI
import VirtKitHost
import VirtKitRuntime

/// Chardev listings, logs and the guest agent.
///
/// | method and path | answers |
/// |---|---|
/// | `GET /v1/domains/{name}/chardevs` | the chardevs virtkitd serves, with their client sockets |
/// | `GET /v1/domains/{name}/log[/{device}]` | the QEMU log, or a chardev's log (`?all=true`: rotated files first) |
/// | `POST /v1/domains/{name}/agent` | one guest agent command (`{"command": JSON, "timeout": -1}`) |
/// | `POST /v1/domains/{name}/devices/attach`, `.../detach` | hot-plug or unplug one chardev device (its XML) |
extension APIRouter {
    static func addConsoleRoutes(_ router: Router<BasicRequestContext>, hypervisor: Hypervisor) {
        router.get("/v1/domains/:name/chardevs") { _, context in
            await answer { json(try await hypervisor.chardevs(name: try name(context))) }
        }
        for route in ["/v1/domains/:name/log", "/v1/domains/:name/log/:device"] {
            router.get(RouterPath(route)) { request, context in
                await answer {
                    let device = context.parameters.get("device").flatMap { $0.removingPercentEncoding }
                    let path = try await hypervisor.logPath(name: try name(context), device: device)
                    let all = request.uri.queryParameters["all"].map { $0 == "true" || $0 == "1" } ?? false
                    return try logResponse(path, withBackups: all)
                }
            }
        }
        for (route, attach) in [("/v1/domains/:name/devices/attach", true), ("/v1/domains/:name/devices/detach", false)] {
            router.post(RouterPath(route)) { request, context in
                await answer {
                    let name = try name(context)
                    let xml = try await collect(request)
                    if attach {
                        try await hypervisor.attachDevice(name: name, xml: xml)
                    } else {
                        try await hypervisor.detachDevice(name: name, xml: xml)
                    }
                    return json([attach ? "attached" : "detached": name])
                }
            }
        }
        router.post("/v1/domains/:name/agent") { request, context in
            await answer {
                let body = try await collect(request)
                guard let command = try decode(AgentCommandRequest.self, body) else {
                    throw APIError(.invalidArgument, "missing request body: {\"command\": \"{\\\"execute\\\":...}\"}")
                }
                let reply = try await hypervisor.agentCommand(name: try name(context), command: command.command, timeout: command.timeout)
                return json(["reply": reply])
            }
        }
    }

    /// The log's bytes (with its rotated files, oldest first, when asked); a log not written
    /// yet is empty, not an error.
    static func logResponse(_ path: FilePath, withBackups: Bool) throws(APIError) -> Response {
        var files: [FilePath] = []
        if withBackups {
            var index = 1
            while AtomicFile.read(FilePath(path.string + ".\(index)")) != nil, index < 1000 {
                files.insert(FilePath(path.string + ".\(index)"), at: 0)
                index += 1
            }
        }
        files.append(path)
        var body = ByteBuffer()
        for file in files {
            if let bytes = AtomicFile.read(file) { body.writeBytes(bytes) }
        }
        var headers = HTTPFields()
        headers[.contentType] = "application/octet-stream"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
    }
}
