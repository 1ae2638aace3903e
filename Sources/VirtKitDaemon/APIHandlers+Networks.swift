import OpenAPIRuntime
import VirtKitAPI
import VirtKitOpenAPI
import VirtKitRuntime

/// The network operations of docs/openapi.yaml, over the hypervisor's ``Networks``.
extension APIHandlers {
    var networks: Networks { hypervisor.networks }

    func listNetworks(_ input: Operations.listNetworks.Input) async throws -> Operations.listNetworks.Output {
        .ok(.init(body: .json(await networks.list().map(Components.Schemas.NetworkSummary.init))))
    }

    func defineNetwork(_ input: Operations.defineNetwork.Input) async throws -> Operations.defineNetwork.Output {
        guard case .xml(let body) = input.body else { throw APIError(.invalidArgument, "missing request body") }
        let xml = try await Self.text(body)
        let summary = Self.flag(input.query.start) ? try await networks.create(xml: xml) : try await networks.define(xml: xml)
        return .ok(.init(body: .json(.init(summary))))
    }

    func getNetworkInfo(_ input: Operations.getNetworkInfo.Input) async throws -> Operations.getNetworkInfo.Output {
        .ok(.init(body: .json(.init(try await networks.info(input.path.name)))))
    }

    func undefineNetwork(_ input: Operations.undefineNetwork.Input) async throws -> Operations.undefineNetwork.Output {
        try await networks.undefine(input.path.name)
        return .ok(.init(body: .json(.init(undefined: input.path.name))))
    }

    func getNetworkXML(_ input: Operations.getNetworkXML.Input) async throws -> Operations.getNetworkXML.Output {
        let xml = try await networks.xml(input.path.name, inactive: Self.flag(input.query.inactive))
        return .ok(.init(body: .xml(HTTPBody(xml))))
    }

    func networkAction(_ input: Operations.networkAction.Input) async throws -> Operations.networkAction.Output {
        let summary = switch input.path.action {
        case .start: try await networks.start(input.path.name)
        case .destroy: try await networks.destroy(input.path.name)
        }
        return .ok(.init(body: .json(.init(summary))))
    }

    func setNetworkAutostart(_ input: Operations.setNetworkAutostart.Input) async throws -> Operations.setNetworkAutostart.Output {
        var enabled = true
        if case .json(let request) = input.body { enabled = request.enabled ?? true }
        return .ok(.init(body: .json(.init(try await networks.setAutostart(input.path.name, enabled: enabled)))))
    }

    func getNetworkLeases(_ input: Operations.getNetworkLeases.Input) async throws -> Operations.getNetworkLeases.Output {
        let leases = try await networks.leases(input.path.name, mac: input.query.mac)
        return .ok(.init(body: .json(leases.map(Components.Schemas.NetworkLease.init))))
    }

    func setInterfaceLink(_ input: Operations.setInterfaceLink.Input) async throws -> Operations.setInterfaceLink.Output {
        guard case .json(let request) = input.body else { throw APIError(.invalidArgument, "missing request body") }
        let summary = try await hypervisor.setLink(name: input.path.name, interface: input.path.interface, up: request.state == .up)
        return .ok(.init(body: .json(.init(summary))))
    }
}
