import VirtKitLibvirtRPC
import VirtKitModel
import VirtKitRuntime
import VirtKitXDR

/// The network procedures (virsh's net-* verbs, virt-manager's network list) over the
/// hypervisor's ``Networks``.
extension LibvirtDispatcher {
    var networks: Networks { hypervisor.networks }

    func networkCall(_ procedure: RemoteProcedure, _ args: inout XDRReader) async throws -> [UInt8]? {
        switch procedure {
        case .connectListAllNetworks:
            let needResults = try args.read(Int32.self)
            let flags = try args.read(UInt32.self)
            try RemoteError.checkFlags(flags, allowed: ListAllNetworksFilter.known, "virConnectListAllNetworks")
            let filter = ListAllNetworksFilter(flags: flags)
            let matching = await networks.list().filter { filter.admits(active: $0.active, persistent: $0.persistent, autostart: $0.autostart) }
            return Self.reply { writer in
                writer.writeArray(needResults != 0 ? matching.map(Self.wire) : []) { $1.encode(to: &$0) }
                writer.write(UInt32(matching.count))
            }
        case .connectNumOfNetworks, .connectNumOfDefinedNetworks:
            let active = procedure == .connectNumOfNetworks
            let count = await networks.list().filter { $0.active == active }.count
            return Self.reply { $0.write(Int32(count)) }
        case .connectListNetworks, .connectListDefinedNetworks:
            let limit = Int(max(0, try args.read(Int32.self)))
            let active = procedure == .connectListNetworks
            let names = await networks.list().filter { $0.active == active }.map(\.name)
            return Self.reply { $0.writeArray(Array(names.prefix(limit))) { $0.write($1) } }
        case .networkLookupByName:
            let summary = try await networks.info(try args.readRemoteString(what: "network name"))
            return Self.reply { Self.wire(summary).encode(to: &$0) }
        case .networkLookupByUUID:
            let uuid = try args.readFixedOpaque(count: RPCLimits.uuidLength)
            guard let summary = await networks.list().first(where: { RemoteDomain.uuidBytes($0.uuid) == uuid }) else {
                throw Self.noNetwork("no network with matching uuid '\(RemoteDomain.uuidString(uuid))'")
            }
            return Self.reply { Self.wire(summary).encode(to: &$0) }
        case .networkCreateXML, .networkCreateXMLFlags:
            let xml = try args.readRemoteString(what: "network XML")
            if procedure == .networkCreateXMLFlags {
                // VIR_NETWORK_CREATE_VALIDATE: VirtKit always validates.
                try RemoteError.checkFlags(try args.read(UInt32.self), allowed: 1, "virNetworkCreateXMLFlags")
            }
            let summary = try await networks.create(xml: xml)
            return Self.reply { Self.wire(summary).encode(to: &$0) }
        case .networkDefineXML, .networkDefineXMLFlags:
            let xml = try args.readRemoteString(what: "network XML")
            if procedure == .networkDefineXMLFlags {
                // VIR_NETWORK_DEFINE_VALIDATE: VirtKit always validates.
                try RemoteError.checkFlags(try args.read(UInt32.self), allowed: 1, "virNetworkDefineXMLFlags")
            }
            let summary = try await networks.define(xml: xml)
            return Self.reply { Self.wire(summary).encode(to: &$0) }
        default:
            return try await networkCallOnHandle(procedure, &args)
        }
    }

    /// The procedures on one network handle.
    private func networkCallOnHandle(_ procedure: RemoteProcedure, _ args: inout XDRReader) async throws -> [UInt8]? {
        switch procedure {
        case .networkCreate:
            _ = try await networks.start(try await resolve(try args.readNetwork()).name)
            return []
        case .networkDestroy:
            _ = try await networks.destroy(try await resolve(try args.readNetwork()).name)
            return []
        case .networkUndefine:
            try await networks.undefine(try await resolve(try args.readNetwork()).name)
            return []
        case .networkGetXMLDesc:
            let network = try await resolve(try args.readNetwork())
            let flags = try args.read(UInt32.self)
            try RemoteError.checkFlags(flags, allowed: 1, "virNetworkGetXMLDesc")
            let xml = try await networks.xml(network.name, inactive: flags & 1 != 0)
            return Self.reply { $0.write(xml) }
        case .networkGetAutostart, .networkIsActive, .networkIsPersistent:
            let network = try await resolve(try args.readNetwork())
            let value = procedure == .networkGetAutostart ? network.autostart : procedure == .networkIsActive ? network.active : network.persistent
            return Self.reply { $0.write(Int32(value ? 1 : 0)) }
        case .networkSetAutostart:
            let network = try await resolve(try args.readNetwork())
            _ = try await networks.setAutostart(network.name, enabled: try args.read(Int32.self) != 0)
            return []
        case .networkGetBridgeName:
            let network = try await resolve(try args.readNetwork())
            guard let bridge = network.bridge else {
                throw RemoteError(code: RemoteError.Number.internalError, domain: RemoteError.Source.network,
                                  message: "internal error: network '\(network.name)' does not have a bridge name.")
            }
            return Self.reply { $0.write(bridge) }
        case .networkGetDHCPLeases:
            return try await leases(&args)
        default:
            return nil
        }
    }

    private func leases(_ args: inout XDRReader) async throws -> [UInt8] {
        let network = try await resolve(try args.readNetwork())
        let mac = try args.readOptionalRemoteString(what: "MAC address")
        let needResults = try args.read(Int32.self)
        try RemoteError.checkFlags(try args.read(UInt32.self), allowed: 0, "virNetworkGetDHCPLeases")
        let leases = try await networks.leases(network.name, mac: mac).map {
            RemoteNetworkLease(interface: $0.interface, expiryTime: $0.expiryTime, type: $0.type == "ipv6" ? 1 : 0,
                               mac: $0.mac.isEmpty ? nil : $0.mac, iaid: nil, address: $0.address, prefix: UInt32(clamping: $0.prefix),
                               hostname: $0.hostname, clientID: $0.clientID)
        }
        return Self.reply { writer in
            writer.writeArray(needResults != 0 ? leases : []) { $1.encode(to: &$0) }
            writer.write(UInt32(leases.count))
        }
    }

    /// The runtime's network behind a handle: the same name and uuid, else libvirt's "no network
    /// with matching uuid".
    func resolve(_ network: RemoteNetwork) async throws -> NetworkSummary {
        guard let summary = try? await networks.info(network.name), RemoteDomain.uuidBytes(summary.uuid) == network.uuid else {
            throw Self.noNetwork("no network with matching uuid '\(RemoteDomain.uuidString(network.uuid))' (\(network.name))")
        }
        return summary
    }

    static func noNetwork(_ detail: String) -> RemoteError {
        RemoteError(code: RemoteError.Number.noNetwork, domain: RemoteError.Source.network, message: "Network not found: \(detail)")
    }

    static func wire(_ summary: NetworkSummary) -> RemoteNetwork {
        RemoteNetwork(name: summary.name, uuid: RemoteDomain.uuidBytes(summary.uuid) ?? Array(repeating: 0, count: 16))
    }
}
