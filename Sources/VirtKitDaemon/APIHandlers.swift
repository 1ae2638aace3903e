import Foundation
import OpenAPIRuntime
import VirtKitAPI
import VirtKitOpenAPI
import VirtKitRuntime

/// The API's operations, as docs/openapi.yaml declares them (``APIProtocol`` and its types are
/// generated from it), over the hypervisor. Each answers its success; every failure is thrown,
/// and ``APIMiddleware`` answers it with the document's error body and status.
struct APIHandlers: APIProtocol {
    let hypervisor: Hypervisor
    let mode: Components.Schemas.VersionInfo.modePayload

    func getVersion(_ input: Operations.getVersion.Input) async throws -> Operations.getVersion.Output {
        let info = Components.Schemas.VersionInfo(virtkit: VirtKitVersion.string, mode: mode,
                                                  pid: ProcessInfo.processInfo.processIdentifier)
        return .ok(.init(body: .json(info)))
    }

    func getMetrics(_ input: Operations.getMetrics.Input) async throws -> Operations.getMetrics.Output {
        .ok(.init(body: .plainText(HTTPBody(await MetricsReport.render(hypervisor)))))
    }

    func listDomains(_ input: Operations.listDomains.Input) async throws -> Operations.listDomains.Output {
        var domains = await hypervisor.list(all: Self.flag(input.query.all))
        if let wanted = input.query.autostart.flatMap(Self.tristate) {
            let marked = await hypervisor.autostartNames()
            domains = domains.filter { marked.contains($0.name) == wanted }
        }
        return .ok(.init(body: .json(domains.map(Components.Schemas.DomainSummary.init))))
    }

    func setDomainAutostart(_ input: Operations.setDomainAutostart.Input) async throws -> Operations.setDomainAutostart.Output {
        var enabled = true
        if case .json(let request) = input.body { enabled = request.enabled ?? true }
        return .ok(.init(body: .json(.init(try await hypervisor.setAutostart(name: input.path.name, enabled: enabled)))))
    }

    func defineDomain(_ input: Operations.defineDomain.Input) async throws -> Operations.defineDomain.Output {
        guard case .xml(let body) = input.body else { throw APIError(.invalidArgument, "missing request body") }
        let summary = try await hypervisor.define(xml: try await Self.text(body))
        // The defined domain's own path: the CLI's front names it from this header.
        return .ok(.init(headers: .init(Content_hyphen_Location: APIPath.domain(summary.name)), body: .json(.init(summary))))
    }

    func getDomainInfo(_ input: Operations.getDomainInfo.Input) async throws -> Operations.getDomainInfo.Output {
        .ok(.init(body: .json(.init(try await hypervisor.info(name: input.path.name)))))
    }

    func undefineDomain(_ input: Operations.undefineDomain.Input) async throws -> Operations.undefineDomain.Output {
        try await hypervisor.undefine(name: input.path.name)
        return .ok(.init(body: .json(.init(undefined: input.path.name))))
    }

    func getDomainState(_ input: Operations.getDomainState.Input) async throws -> Operations.getDomainState.Output {
        .ok(.init(body: .json(.init(try await hypervisor.state(name: input.path.name)))))
    }

    func getDomainMonitor(_ input: Operations.getDomainMonitor.Input) async throws -> Operations.getDomainMonitor.Output {
        .ok(.init(body: .json(.init(try await hypervisor.monitorInfo(name: input.path.name)))))
    }

    func listDomainChardevs(_ input: Operations.listDomainChardevs.Input) async throws -> Operations.listDomainChardevs.Output {
        let chardevs = try await hypervisor.chardevs(name: input.path.name)
        return .ok(.init(body: .json(try chardevs.map { info throws(UnrepresentableValue) in try .init(info) })))
    }

    func getDomainLog(_ input: Operations.getDomainLog.Input) async throws -> Operations.getDomainLog.Output {
        let path = try await hypervisor.logPath(name: input.path.name, device: nil)
        return .ok(.init(body: .binary(HTTPBody(LogFiles.read(path, withBackups: Self.flag(input.query.all))))))
    }

    func getDomainChardevLog(_ input: Operations.getDomainChardevLog.Input) async throws -> Operations.getDomainChardevLog.Output {
        let path = try await hypervisor.logPath(name: input.path.name, device: input.path.device)
        return .ok(.init(body: .binary(HTTPBody(LogFiles.read(path, withBackups: Self.flag(input.query.all))))))
    }

    func attachDevice(_ input: Operations.attachDevice.Input) async throws -> Operations.attachDevice.Output {
        guard case .xml(let body) = input.body else { throw APIError(.invalidArgument, "missing request body") }
        try await hypervisor.attachDevice(name: input.path.name, xml: try await Self.text(body))
        return .ok(.init(body: .json(.init(attached: input.path.name))))
    }

    func detachDevice(_ input: Operations.detachDevice.Input) async throws -> Operations.detachDevice.Output {
        guard case .xml(let body) = input.body else { throw APIError(.invalidArgument, "missing request body") }
        try await hypervisor.detachDevice(name: input.path.name, xml: try await Self.text(body))
        return .ok(.init(body: .json(.init(detached: input.path.name))))
    }

    func runAgentCommand(_ input: Operations.runAgentCommand.Input) async throws -> Operations.runAgentCommand.Output {
        guard case .json(let request) = input.body else { throw APIError(.invalidArgument, "missing request body") }
        let reply = try await hypervisor.agentCommand(name: input.path.name, command: request.command,
                                                      timeout: request.timeout ?? -1)
        return .ok(.init(body: .json(.init(reply: reply))))
    }

    func getDomainXML(_ input: Operations.getDomainXML.Input) async throws -> Operations.getDomainXML.Output {
        let xml = try await hypervisor.xml(name: input.path.name, inactive: Self.flag(input.query.inactive))
        return .ok(.init(body: .xml(HTTPBody(xml))))
    }

    func startDomain(_ input: Operations.startDomain.Input) async throws -> Operations.startDomain.Output {
        var paused = false
        if case .json(let request) = input.body { paused = request.paused ?? false }
        return .ok(.init(body: .json(.init(try await hypervisor.start(name: input.path.name, paused: paused)))))
    }

    func shutdownDomain(_ input: Operations.shutdownDomain.Input) async throws -> Operations.shutdownDomain.Output {
        var options = ShutdownOptions()
        if case .json(let request) = input.body { options = ShutdownOptions(request) }
        return .ok(.init(body: .json(.init(try await hypervisor.shutdown(name: input.path.name, options: options)))))
    }

    func destroyDomain(_ input: Operations.destroyDomain.Input) async throws -> Operations.destroyDomain.Output {
        .ok(.init(body: .json(.init(try await hypervisor.destroy(name: input.path.name)))))
    }

    func rebootDomain(_ input: Operations.rebootDomain.Input) async throws -> Operations.rebootDomain.Output {
        .ok(.init(body: .json(.init(try await hypervisor.reboot(name: input.path.name)))))
    }

    func suspendDomain(_ input: Operations.suspendDomain.Input) async throws -> Operations.suspendDomain.Output {
        .ok(.init(body: .json(.init(try await hypervisor.suspend(name: input.path.name)))))
    }

    func resumeDomain(_ input: Operations.resumeDomain.Input) async throws -> Operations.resumeDomain.Output {
        .ok(.init(body: .json(.init(try await hypervisor.resume(name: input.path.name)))))
    }

    /// A boolean query parameter: true when `true` or `1`, anything else (or none) false.
    static func flag(_ value: String?) -> Bool { value == "true" || value == "1" }

    /// `true`/`1`, `false`/`0`, or nil for anything else.
    static func tristate(_ value: String) -> Bool? {
        switch value {
        case "true", "1": true
        case "false", "0": false
        default: nil
        }
    }

    /// A body ``APIMiddleware`` has already read whole and checked as UTF-8.
    static func text(_ body: HTTPBody) async throws -> String {
        try await String(collecting: body, upTo: APIMiddleware.bodyLimit)
    }
}
