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
/// | `/v1/domains/{name}/console[/{device}[/{mode}]]` | a console through its broker (many clients) |
/// | `/v1/domains/{name}/channel/{target}` | a virtio channel as a byte stream (virDomainOpenChannel) |
extension APIRouter {
    /// The streams under `/v1/domains/{name}/`, by their last path components.
    enum Stream: String, CaseIterable {
        case monitorInteractive = "monitor/interactive"
        case monitorCommand = "monitor/command"

        /// The socket this stream relays for running guest `name`.
        func socket(name: String, hypervisor: Hypervisor) async throws(APIError) -> FilePath {
            let info = try await runtime { () async throws(RuntimeError) in try await hypervisor.monitorInfo(name: name) }
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
    ///
    /// Console and channel streams: `/v1/domains/NAME/console` (the default console, read-write),
    /// `.../console/DEVICE`, `.../console/DEVICE/MODE` (`readwrite`, `readonly`, `force`,
    /// `shared`), and `.../channel/TARGET-NAME`.
    static func streamSocket(path: String, hypervisor: Hypervisor) async throws(APIError) -> FilePath? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 5, parts.count <= 7, parts[0].isEmpty, parts[1] == "v1", parts[2] == "domains" else { return nil }
        func decoded(_ index: Int) throws(APIError) -> String {
            guard let value = String(parts[index]).removingPercentEncoding, !value.isEmpty else {
                throw APIError(.invalidArgument, "invalid path segment in '\(path)'")
            }
            return value
        }
        switch (parts[4], parts.count) {
        case ("console", _):
            let name = try decoded(3)
            let device = parts.count >= 6 ? try decoded(5) : nil
            var mode = ConsoleMode.readwrite
            if parts.count == 7 {
                guard let chosen = ConsoleMode(rawValue: try decoded(6)) else {
                    throw APIError(.invalidArgument, "unknown console mode '\(parts[6])': readwrite, readonly, force or shared")
                }
                mode = chosen
            }
            return try await runtime { () async throws(RuntimeError) in try await hypervisor.consoleSocket(name: name, device: device, mode: mode) }
        case ("channel", 6):
            let (name, target) = (try decoded(3), try decoded(5))
            return try await runtime { () async throws(RuntimeError) in try await hypervisor.channelSocket(name: name, target: target) }
        case (_, 6):
            guard let stream = Stream(rawValue: parts[4...5].joined(separator: "/")) else { return nil }
            return try await stream.socket(name: try decoded(3), hypervisor: hypervisor)
        default:
            return nil
        }
    }

    /// The stream paths without an upgrade: the domain's error as usual, or a 400 that says to upgrade.
    static func addStreamRoutes(_ router: Router<BasicRequestContext>, hypervisor: Hypervisor) {
        var paths = Stream.allCases.map { "/v1/domains/:name/\($0.rawValue)" }
        paths += ["/v1/domains/:name/console", "/v1/domains/:name/console/:device",
                  "/v1/domains/:name/console/:device/:mode", "/v1/domains/:name/channel/:device"]
        for route in paths {
            router.get(RouterPath(route)) { request, _ in
                await answer {
                    _ = try await streamSocket(path: request.uri.path, hypervisor: hypervisor)
                    throw APIError(.invalidArgument,
                                   "\(request.uri.path) is a WebSocket stream: send 'Connection: Upgrade' and 'Upgrade: websocket'")
                }
            }
        }
    }
}
