import Foundation
import Logging
import SystemPackage
import VirtKitDomain
import VirtKitHost
import VirtKitNetwork
#if canImport(Glibc)
import Glibc
#endif

/// Starts one network on the host and stops it, in libvirt's order
/// (`networkStartNetworkVirtual`): the bridge with its MAC and MTU, STP, the IPv6 knobs, the
/// firewall table, the addresses, the link up, forwarding, dnsmasq. A step that fails undoes
/// the ones before it, so a failed start leaves nothing behind.
struct NetworkStarter: Sendable {
    let files: NetworkFiles
    let logger: Logger
    static let nft = FilePath("/usr/sbin/nft")
    static let dnsmasq = FilePath("/usr/sbin/dnsmasq")

    /// Starts `network` (its bridge named); the status to keep. `record` is given the status
    /// after each thing made (the bridge, the table, dnsmasq), so that a daemon killed in the
    /// middle leaves a record of exactly what to undo.
    func start(_ network: Network, transient: Bool,
               record: @Sendable (NetworkStatus) -> Void = { _ in }) async throws(RuntimeError) -> NetworkStatus {
        guard let bridge = network.bridge?.name else {
            throw RuntimeError(.internalError, "internal error: network '\(network.name)' has no bridge name")
        }
        // `ownsBridge` is set once the bridge is made: an undo never removes a link it did not make.
        var status = NetworkStatus(xml: NetworkFormatter.format(network), bridge: bridge, ownsBridge: false,
                                   table: nil, dnsmasq: nil, transient: transient, complete: false)
        guard network.ownsBridge else {
            guard NetworkLink.exists(bridge) else {
                throw RuntimeError(.operationFailed, "operation failed: bridge '\(bridge)' of network '\(network.name)' does not exist on the host")
            }
            return status
        }
        try checkCollisions(network, bridge: bridge)
        do {
            try await bringUp(network, bridge: bridge, status: &status, record: record)
        } catch {
            await stop(status, name: network.name)
            throw error
        }
        return status
    }

    /// The bridge must be new, and no route of the host may cover the network's subnets.
    func checkCollisions(_ network: Network, bridge: String) throws(RuntimeError) {
        if NetworkLink.exists(bridge) {
            throw RuntimeError(.operationFailed,
                               "operation failed: a link named '\(bridge)' exists on the host already; network '\(network.name)' needs a bridge of its own")
        }
        for ip in network.ips where ip.family == .ipv4 {
            if let interface = HostRoutes.interface(routing: ip.network.bytes, prefix: ip.prefix) {
                throw RuntimeError(.internalError, "internal error: Network is already in use by interface \(interface)")
            }
        }
    }

    private func bringUp(_ network: Network, bridge: String, status: inout NetworkStatus,
                         record: @Sendable (NetworkStatus) -> Void) async throws(RuntimeError) {
        let mac = network.mac.flatMap(MACAddress.parse) ?? []
        try host { () throws(HostError) in try NetworkLink.createBridge(bridge, mac: mac, mtu: network.mtu) }
        status.ownsBridge = true
        record(status)
        try host { () throws(HostError) in
            // The delay first: the kernel refuses a short one while STP runs.
            try NetworkLink.writeKnob("/sys/class/net/\(bridge)/bridge/forward_delay", String((network.bridge?.delay ?? 0) * 100))
            try NetworkLink.writeKnob("/sys/class/net/\(bridge)/bridge/stp_state", network.bridge?.stp == false ? "0" : "1")
            let v6 = "/proc/sys/net/ipv6/conf/\(bridge)"
            if access(v6 + "/disable_ipv6", W_OK) == 0 {
                try NetworkLink.writeKnob(v6 + "/disable_ipv6", network.ips.contains { $0.family == .ipv6 } ? "0" : "1")
                try NetworkLink.writeKnob(v6 + "/accept_ra", "0")
                try NetworkLink.writeKnob(v6 + "/autoconf", "0")
            }
        }
        if let script = NetworkRuleset.script(for: network) {
            let table = NetworkRuleset.tableName(bridge: bridge)
            try await applyRules(script, table: table, network: network.name)
            status.table = table
            record(status)
        }
        try host { () throws(HostError) in
            for ip in network.ips { try NetworkLink.addAddress(bridge, bytes: ip.address.bytes, prefix: ip.prefix) }
            try NetworkLink.setUp(bridge, true)
            if network.forward != nil {
                if network.ips.contains(where: { $0.family == .ipv4 }) { try NetworkLink.writeKnob("/proc/sys/net/ipv4/ip_forward", "1\n") }
                if network.ips.contains(where: { $0.family == .ipv6 }) {
                    try NetworkLink.writeKnob("/proc/sys/net/ipv6/conf/all/forwarding", "1\n")
                }
            }
        }
        if network.needsDnsmasq {
            status.dnsmasq = try await DnsmasqProcess(files: files, logger: logger).start(network, bridge: bridge)
            record(status)
        }
    }

    /// Creates the network's nftables table (removing a stale one of the same name first: a
    /// daemon killed mid-start leaves it, and its name is VirtKit's).
    private func applyRules(_ script: String, table: String, network: String) async throws(RuntimeError) {
        _ = try? await ToolRunner.run(Self.nft, ["nft", "delete", "table", "inet", table])
        let path = files.run.appending(".\(table).nft")
        do {
            try AtomicFile.makeDirectory(files.run)
            try AtomicFile.write(Array(script.utf8), to: path, durable: false)
            defer { unlink(path.string) }
            let outcome = try await ToolRunner.run(Self.nft, ["nft", "-f", path.string])
            guard outcome.status == 0 else {
                throw RuntimeError(.operationFailed,
                                   "operation failed: cannot add the firewall rules of network '\(network)': \(outcome.output.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
        } catch let error as RuntimeError {
            throw error
        } catch {
            throw RuntimeError(.systemError, "cannot add the firewall rules of network '\(network)': \(error)", cause: error)
        }
    }

    /// Stops what `status` holds, each step whatever became of the others (a step that fails is
    /// logged): dnsmasq, the table, the bridge, the files.
    func stop(_ status: NetworkStatus, name: String) async {
        if let dnsmasq = status.dnsmasq { await DnsmasqProcess.stop(dnsmasq) }
        // A daemon killed between dnsmasq's start and its record: found by its configuration.
        let conf = "--conf-file=" + files.dnsmasqDirectory(name).appending("dnsmasq.conf").string
        for orphan in ProcessIdentity.running(executable: NetworkStarter.dnsmasq.string) where orphan.arguments.contains(conf) {
            await DnsmasqProcess.stop(orphan)
        }
        if let table = status.table {
            let outcome = try? await ToolRunner.run(Self.nft, ["nft", "delete", "table", "inet", table])
            if outcome?.status != 0 {
                logger.error("network \(name): cannot delete nftables table \(table): \(outcome?.output ?? "nft did not run")")
            }
        }
        if status.ownsBridge, NetworkLink.exists(status.bridge) {
            do {
                try NetworkLink.setUp(status.bridge, false)
                try NetworkLink.delete(status.bridge)
            } catch {
                logger.error("network \(name): \(error)")
            }
        }
        AtomicFile.removeTree(files.dnsmasqDirectory(name))
    }

    /// Whether what `status` holds is still there: the bridge, the table, dnsmasq.
    func isIntact(_ status: NetworkStatus) async -> Bool {
        guard NetworkLink.exists(status.bridge) else { return false }
        if let dnsmasq = status.dnsmasq, !dnsmasq.isAlive { return false }
        if let table = status.table {
            let outcome = try? await ToolRunner.run(Self.nft, ["nft", "list", "table", "inet", table])
            return outcome?.status == 0
        }
        return true
    }

    private func host(_ body: () throws(HostError) -> Void) throws(RuntimeError) {
        do {
            try body()
        } catch {
            throw RuntimeError(.systemError, "\(error)", cause: error)
        }
    }
}
