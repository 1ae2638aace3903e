// FoundationEssentials only: full Foundation (ICU) costs the CLI milliseconds at every start.
import FoundationEssentials
import NIOHTTP1
import VirtKitAPI

/// The CLI's side of virtkitd's API: one async method per verb, errors as ``APIError`` carrying
/// the daemon's message unchanged.
public struct DaemonClient: Sendable {
    public let socketPath: String
    let http: HTTPUnixClient

    public init(socketPath: String) {
        self.socketPath = socketPath
        self.http = HTTPUnixClient(socketPath: socketPath)
    }

    public func version() async throws(APIError) -> VersionInfo { try await call(.GET, APIPath.version) }

    public func list(all: Bool) async throws(APIError) -> [DomainSummary] {
        try await call(.GET, APIPath.domains + (all ? "?all=true" : ""))
    }

    public func define(xml: String) async throws(APIError) -> DomainSummary {
        try await call(.POST, APIPath.domains, body: Array(xml.utf8), contentType: "application/xml")
    }

    public func undefine(_ name: String) async throws(APIError) {
        let _: [String: String] = try await call(.DELETE, APIPath.domain(name))
    }

    public func start(_ name: String, paused: Bool) async throws(APIError) -> DomainSummary {
        try await post(name, .start, StartRequest(paused: paused))
    }

    public func shutdown(_ name: String, _ request: ShutdownRequest) async throws(APIError) -> DomainSummary {
        try await post(name, .shutdown, request)
    }

    public func perform(_ action: DomainAction, _ name: String) async throws(APIError) -> DomainSummary {
        try await post(name, action, [String: String]())
    }

    public func state(_ name: String) async throws(APIError) -> DomainSummary { try await call(.GET, APIPath.state(name)) }

    public func monitor(_ name: String) async throws(APIError) -> MonitorInfo { try await call(.GET, APIPath.monitor(name)) }

    public func info(_ name: String) async throws(APIError) -> DomainInfo { try await call(.GET, APIPath.domain(name)) }

    public func xml(_ name: String, inactive: Bool) async throws(APIError) -> String {
        let answer = try await http.send(method: .GET, path: APIPath.xml(name, inactive: inactive), body: nil, contentType: "")
        try check(answer)
        return String(decoding: answer.body, as: UTF8.self)
    }

    public func chardevs(_ name: String) async throws(APIError) -> [ChardevInfo] { try await call(.GET, APIPath.chardevs(name)) }

    /// The QEMU log of `name`, or chardev `device`'s log (with its rotated files first when `all`).
    public func log(_ name: String, device: String?, all: Bool) async throws(APIError) -> [UInt8] {
        let path = APIPath.log(name, device: device) + (all ? "?all=true" : "")
        let answer = try await http.send(method: .GET, path: path, body: nil, contentType: "")
        try check(answer)
        return answer.body
    }

    /// One guest agent command as JSON text; the agent's reply as JSON text (empty: none waited for).
    public func agentCommand(_ name: String, _ request: AgentCommandRequest) async throws(APIError) -> String {
        guard let data = try? JSONEncoder().encode(request) else { throw APIError(.internalError, "cannot encode request") }
        let reply: [String: String] = try await call(.POST, APIPath.agent(name), body: Array(data))
        return reply["reply"] ?? ""
    }

    /// Hot-plugs (or unplugs) the device `xml` describes.
    public func device(_ name: String, xml: String, attach: Bool) async throws(APIError) {
        let _: [String: String] = try await call(.POST, APIPath.devices(name, attach: attach), body: Array(xml.utf8),
                                                 contentType: "application/xml")
    }

    func post<B: Encodable>(_ name: String, _ action: DomainAction, _ body: B) async throws(APIError) -> DomainSummary {
        guard let data = try? JSONEncoder().encode(body) else { throw APIError(.internalError, "cannot encode request") }
        return try await call(.POST, APIPath.action(name, action), body: Array(data), contentType: "application/json")
    }

    func call<T: Decodable>(_ method: HTTPMethod, _ path: String, body: [UInt8]? = nil,
                            contentType: String = "application/json") async throws(APIError) -> T {
        let answer = try await http.send(method: method, path: path, body: body, contentType: contentType)
        try check(answer)
        do {
            return try JSONDecoder().decode(T.self, from: Data(answer.body))
        } catch {
            throw APIError(.internalError, "unexpected answer from virtkitd: \(String(decoding: answer.body.prefix(200), as: UTF8.self))")
        }
    }

    func check(_ answer: HTTPUnixClient.Answer) throws(APIError) {
        guard answer.status >= 300 else { return }
        if let body = try? JSONDecoder().decode(APIErrorBody.self, from: Data(answer.body)) { throw body.error }
        throw APIError(.internalError, "virtkitd answered HTTP \(answer.status)")
    }
}
