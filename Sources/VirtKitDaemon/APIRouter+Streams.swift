import Hummingbird
import SystemPackage
import VirtKitAPI
import VirtKitRuntime

/// The stream endpoints: WebSocket upgrades relayed to a guest's sockets by ``StreamUpgradeChannel``.
///
/// | path | relays |
/// |---|---|
/// | `/v1/domains/{name}/monitor/interactive` | the interactive monitor channel (HMP, or QMP on request) |
/// | `/v1/domains/{name}/monitor/command` | the command channel (one command, one answer, closed) |
extension APIRouter {
    /// The streams under `/v1/domains/{name}/`, by their last path components.
    enum Stream: String, CaseIterable {
        case monitorInteractive = "monitor/interactive"
        case monitorCommand = "monitor/command"

        /// The socket this stream relays for running guest `name`.
        func socket(name: String, hypervisor: Hypervisor) async throws(APIError) -> FilePath {
            let info = try await hypervisor.monitorInfo(name: name)
            let path: String?
            switch self {
            case .monitorInteractive: path = info.interactiveSocket
            case .monitorCommand: path = info.commandSocket
            }
            guard let path else {
                throw APIError(.operationFailed, "operation failed: domain '\(name)' has no \(rawValue.replacingOccurrences(of: "/", with: " ")) socket")
            }
            return FilePath(path)
        }
    }

    /// The socket behind a stream path (`/v1/domains/NAME/monitor/interactive`, without query),
    /// nil for a path that is not a stream; an unknown or stopped domain is an error.
    static func streamSocket(path: String, hypervisor: Hypervisor) async throws(APIError) -> FilePath? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0].isEmpty, parts[1] == "v1", parts[2] == "domains",
              let stream = Stream(rawValue: parts[4...5].joined(separator: "/")) else { return nil }
        guard let name = String(parts[3]).removingPercentEncoding, !name.isEmpty else {
            throw APIError(.invalidArgument, "invalid domain name in '\(path)'")
        }
        return try await stream.socket(name: name, hypervisor: hypervisor)
    }

    /// The stream paths without an upgrade: the domain's error as usual, or a 400 that says to upgrade.
    static func addStreamRoutes(_ router: Router<BasicRequestContext>, hypervisor: Hypervisor) {
        for stream in Stream.allCases {
            router.get("/v1/domains/:name/\(stream.rawValue)") { request, context in
                await answer {
                    _ = try await stream.socket(name: try name(context), hypervisor: hypervisor)
                    throw APIError(.invalidArgument,
                                   "\(request.uri.path) is a WebSocket stream: send 'Connection: Upgrade' and 'Upgrade: websocket'")
                }
            }
        }
    }
}
