// FoundationEssentials only: full Foundation (ICU) costs the CLI milliseconds at every start.
import FoundationEssentials
import VirtKitAPI

/// virtkitd's HTTP/JSON API (docs/openapi.yaml), one blocking method per endpoint; errors are
/// ``APIError``s with the daemon's message unchanged. ``APIError/Code/noConnect`` means nothing
/// was sent (no daemon listens), so a caller may hand the request on or start a daemon.
///
/// The define and start paths stay free of JSONEncoder and JSONDecoder: the static front, a
/// process that makes one request, would pay their first use on every call.
public struct DaemonClient: Sendable {
    public let connection: DaemonConnection
    public var socketPath: String { connection.socketPath }

    public init(socketPath: String) {
        connection = DaemonConnection(socketPath: socketPath)
    }

    /// `GET /v1/version`.
    public func version() throws(APIError) -> VersionInfo { try call("GET", APIPath.version) }

    /// `GET /v1/domains`; with `autostart`, only the domains marked (true) or not (false).
    public func list(all: Bool, autostart: Bool? = nil) throws(APIError) -> [DomainSummary] {
        let query = [all ? "all=true" : nil, autostart.map { "autostart=\($0)" }].compactMap { $0 }.joined(separator: "&")
        let answer = try exchange("GET", APIPath.domains + (query.isEmpty ? "" : "?" + query))
        guard let summaries = DomainSummary.list(from: answer.body) else {
            throw APIError(.internalError, "unexpected answer from virtkitd: \(String(decoding: answer.body.prefix(200), as: UTF8.self))")
        }
        return summaries
    }

    /// `POST /v1/domains`: defines the domain `xml` describes and returns its name (from the
    /// answer's Content-Location; the JSON summary only where a daemon sends none).
    public func define(xml: String) throws(APIError) -> String {
        let answer = try exchange("POST", APIPath.domains, body: Array(xml.utf8), contentType: "application/xml")
        if let name = answer.contentLocation.flatMap(APIPath.domainName(inPath:)) { return name }
        let summary: DomainSummary = try decode(answer)
        return summary.name
    }

    /// `DELETE /v1/domains/{name}`.
    public func undefine(_ name: String) throws(APIError) {
        _ = try exchange("DELETE", APIPath.domain(name))
    }

    /// `POST /v1/domains/{name}/start`.
    public func start(_ name: String, paused: Bool) throws(APIError) {
        _ = try exchange("POST", APIPath.action(name, .start), body: Array(Self.startBody(paused: paused).utf8))
    }

    /// The start request's body, written by hand (see the type's comment).
    static func startBody(paused: Bool) -> String {
        paused ? #"{"paused":true}"# : #"{"paused":false}"#
    }

    /// `POST /v1/domains/{name}/shutdown`.
    public func shutdown(_ name: String, _ request: ShutdownRequest) throws(APIError) -> DomainSummary {
        try call("POST", APIPath.action(name, .shutdown), body: try encode(request))
    }

    /// `POST /v1/domains/{name}/{destroy,reboot,suspend,resume}` (and start and shutdown with
    /// their defaults).
    public func perform(_ action: DomainAction, _ name: String) throws(APIError) -> DomainSummary {
        try call("POST", APIPath.action(name, action), body: Array("{}".utf8))
    }

    /// `POST /v1/domains/{name}/autostart`.
    public func setAutostart(_ name: String, enabled: Bool) throws(APIError) -> DomainSummary {
        try call("POST", APIPath.autostart(name), body: Array((enabled ? #"{"enabled":true}"# : #"{"enabled":false}"#).utf8))
    }

    /// `GET /v1/domains/{name}/state`.
    public func state(_ name: String) throws(APIError) -> DomainSummary { try call("GET", APIPath.state(name)) }

    /// `GET /v1/domains/{name}/monitor`.
    public func monitor(_ name: String) throws(APIError) -> MonitorInfo { try call("GET", APIPath.monitor(name)) }

    /// `GET /v1/domains/{name}`.
    public func info(_ name: String) throws(APIError) -> DomainInfo { try call("GET", APIPath.domain(name)) }

    /// `GET /v1/domains/{name}/xml`.
    public func xml(_ name: String, inactive: Bool) throws(APIError) -> String {
        String(decoding: try exchange("GET", APIPath.xml(name, inactive: inactive)).body, as: UTF8.self)
    }

    /// `GET /v1/domains/{name}/chardevs`.
    public func chardevs(_ name: String) throws(APIError) -> [ChardevInfo] { try call("GET", APIPath.chardevs(name)) }

    /// `GET /v1/domains/{name}/log[/{device}]`: the QEMU log of `name`, or chardev `device`'s
    /// log (with its rotated files first when `all`).
    public func log(_ name: String, device: String?, all: Bool) throws(APIError) -> [UInt8] {
        try exchange("GET", APIPath.log(name, device: device) + (all ? "?all=true" : "")).body
    }

    /// `POST /v1/domains/{name}/agent`: one guest agent command as JSON text; the agent's reply
    /// as JSON text (empty: none waited for).
    public func agentCommand(_ name: String, _ request: AgentCommandRequest) throws(APIError) -> String {
        let reply: [String: String] = try call("POST", APIPath.agent(name), body: try encode(request))
        return reply["reply"] ?? ""
    }

    /// `POST /v1/domains/{name}/devices/{attach,detach}`: hot-plugs (or unplugs) the device `xml`
    /// describes.
    public func device(_ name: String, xml: String, attach: Bool) throws(APIError) {
        _ = try exchange("POST", APIPath.devices(name, attach: attach), body: Array(xml.utf8), contentType: "application/xml")
    }

    // MARK: The exchange

    /// Sends one request; a 2xx answer, or the daemon's error thrown.
    /// `POST /v1/domains/{name}/interfaces/{interface}/link`.
    public func setLink(_ name: String, interface: String, up: Bool) throws(APIError) -> DomainSummary {
        try call("POST", APIPath.domain(name) + "/interfaces/" + APIPath.escape(interface) + "/link",
                 body: Array((up ? #"{"state":"up"}"# : #"{"state":"down"}"#).utf8))
    }

    // MARK: Networks

    /// `GET /v1/networks`.
    public func networks() throws(APIError) -> [NetworkSummary] { try call("GET", APIPath.networks) }

    /// `POST /v1/networks`: defines the network `xml` describes; with `start`, creates it
    /// transient and starts it (`net-create`).
    public func defineNetwork(xml: String, start: Bool = false) throws(APIError) -> NetworkSummary {
        try decode(try exchange("POST", APIPath.networks + (start ? "?start=true" : ""), body: Array(xml.utf8), contentType: "application/xml"))
    }

    /// `GET /v1/networks/{name}`.
    public func networkInfo(_ name: String) throws(APIError) -> NetworkSummary { try call("GET", APIPath.network(name)) }

    /// `DELETE /v1/networks/{name}`.
    public func undefineNetwork(_ name: String) throws(APIError) {
        _ = try exchange("DELETE", APIPath.network(name))
    }

    /// `POST /v1/networks/{name}/start` or `/destroy`.
    public func networkAction(_ name: String, start: Bool) throws(APIError) -> NetworkSummary {
        try call("POST", APIPath.network(name) + (start ? "/start" : "/destroy"))
    }

    /// `GET /v1/networks/{name}/xml[?inactive=true]`.
    public func networkXML(_ name: String, inactive: Bool) throws(APIError) -> String {
        let answer = try exchange("GET", APIPath.network(name) + "/xml" + (inactive ? "?inactive=true" : ""))
        return String(decoding: answer.body, as: UTF8.self)
    }

    /// `POST /v1/networks/{name}/autostart`.
    public func setNetworkAutostart(_ name: String, enabled: Bool) throws(APIError) -> NetworkSummary {
        try call("POST", APIPath.network(name) + "/autostart", body: Array((enabled ? #"{"enabled":true}"# : #"{"enabled":false}"#).utf8))
    }

    /// `GET /v1/networks/{name}/leases[?mac=MAC]`.
    public func networkLeases(_ name: String, mac: String?) throws(APIError) -> [NetworkLease] {
        try call("GET", APIPath.network(name) + "/leases" + (mac.map { "?mac=" + APIPath.escape($0) } ?? ""))
    }

    func exchange(_ method: String, _ path: String, body: [UInt8]? = nil,
                  contentType: String = "application/json") throws(APIError) -> DaemonConnection.Answer {
        switch try connection.send(method: method, path: path, body: body, contentType: contentType) {
        case .unreachable(let error):
            // libvirt's words for a daemon that is not there.
            throw APIError(.noConnect, "Failed to connect socket to '\(socketPath)': \(error.errno)")
        case .answered(let answer) where (200..<300).contains(answer.status):
            return answer
        case .answered(let answer):
            if let body = try? JSONDecoder().decode(APIErrorBody.self, from: Data(answer.body)) { throw body.error }
            throw APIError(.internalError, "virtkitd answered HTTP \(answer.status)")
        }
    }

    func call<T: Decodable>(_ method: String, _ path: String, body: [UInt8]? = nil) throws(APIError) -> T {
        try decode(try exchange(method, path, body: body))
    }

    func decode<T: Decodable>(_ answer: DaemonConnection.Answer) throws(APIError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(answer.body))
        } catch {
            throw APIError(.internalError, "unexpected answer from virtkitd: \(String(decoding: answer.body.prefix(200), as: UTF8.self))")
        }
    }

    func encode(_ value: some Encodable) throws(APIError) -> [UInt8] {
        guard let data = try? JSONEncoder().encode(value) else { throw APIError(.internalError, "cannot encode request") }
        return Array(data)
    }
}
