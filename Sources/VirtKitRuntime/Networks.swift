import Foundation
import Logging
import SystemPackage
import VirtKitDomain
import VirtKitHost
import VirtKitModel
import VirtKitNetwork

/// The daemon's virtual networks: their definitions on disk and, for active ones, what runs for
/// them on the host (``NetworkStarter``). An actor, like ``Hypervisor``: every network's record
/// is read and changed on its executor only.
public actor Networks {
    struct Record {
        /// The inactive definition (what `net-dumpxml --inactive` shows).
        var network: Network
        var persistent: Bool
        var status: NetworkStatus?
        var autostart: Bool
    }

    let files: NetworkFiles
    let logger: Logger
    var records: [String: Record] = [:]
    var starter: NetworkStarter { NetworkStarter(files: files, logger: logger) }

    public init(layout: RuntimeLayout, logger: Logger) {
        files = NetworkFiles(layout: layout)
        self.logger = logger
    }

    /// Reads the definitions and re-attaches to the networks a previous daemon left running;
    /// what a network lost meanwhile (its dnsmasq, its table) is started again, and a network
    /// whose bridge is gone is cleaned up and left inactive.
    public func load() async {
        for name in files.definedNames() {
            guard let text = AtomicFile.read(files.definition(name)).map({ String(decoding: $0, as: UTF8.self) }) else { continue }
            do {
                let network = try NetworkParser.parse(text)
                let marked = access(files.autostartMark(name).string, F_OK) == 0
                records[network.name] = Record(network: network, persistent: true, status: nil, autostart: marked)
            } catch {
                logger.error("network definition \(name).xml not loaded: \(error)")
            }
        }
        for name in files.statusNames() {
            guard let status = NetworkStatus.read(files.status(name)), let live = try? NetworkParser.parse(status.xml) else {
                logger.error("network \(name): unreadable status file; removed")
                unlink(files.status(name).string)
                continue
            }
            await reattach(name, status: status, live: live)
        }
    }

    private func reattach(_ name: String, status: NetworkStatus, live: Network) async {
        let starter = starter
        guard status.complete != false else {
            logger.warning("network \(name): a daemon was killed while starting it; what it made is removed")
            await starter.stop(status, name: name)
            unlink(files.status(name).string)
            return
        }
        guard NetworkLink.exists(status.bridge), records[name] != nil || status.transient else {
            logger.error("network \(name): its bridge \(status.bridge) is gone; cleaned up and left inactive")
            await starter.stop(status, name: name)
            unlink(files.status(name).string)
            return
        }
        var status = status
        if !(await starter.isIntact(status)) {
            logger.warning("network \(name): dnsmasq or its firewall table was gone; restarting the network")
            await starter.stop(status, name: name)
            do {
                status = try await starter.start(live, transient: status.transient)
                status.complete = true
            } catch {
                logger.error("network \(name): cannot start it again: \(error)")
                unlink(files.status(name).string)
                return
            }
        } else if let dnsmasq = status.dnsmasq {
            Task.detached { _ = await ProcessExitWatcher.waitForExit(dnsmasq) }
        }
        if records[name] == nil { records[name] = Record(network: live, persistent: false, status: nil, autostart: false) }
        records[name]?.status = status
        try? status.write(to: files.status(name))
        logger.info("network \(name): re-attached (bridge \(status.bridge))")
    }

    // MARK: Queries

    func record(_ name: String) throws(RuntimeError) -> Record {
        guard let record = records[name] else {
            throw RuntimeError(.noNetwork, "Network not found: no network with matching name '\(name)'")
        }
        return record
    }

    func summary(_ name: String, _ record: Record) -> NetworkSummary {
        let live = record.status.flatMap { try? NetworkParser.parse($0.xml) } ?? record.network
        return NetworkSummary(name: name, uuid: live.uuid ?? "", active: record.status != nil, persistent: record.persistent,
                              autostart: record.autostart, bridge: record.status?.bridge ?? live.bridge?.name)
    }

    /// `net-list --all`, sorted by name.
    public func list() -> [NetworkSummary] {
        records.keys.sorted().compactMap { name in records[name].map { summary(name, $0) } }
    }

    /// `net-info`.
    public func info(_ name: String) throws(RuntimeError) -> NetworkSummary {
        summary(name, try record(name))
    }

    /// `net-dumpxml [--inactive]`.
    public func xml(_ name: String, inactive: Bool) throws(RuntimeError) -> String {
        let record = try record(name)
        if !inactive, let status = record.status { return status.xml }
        return NetworkFormatter.format(record.network)
    }

    /// The bridge a guest's `<interface type='network'>` on `name` plugs into: the network must
    /// be active (libvirt: "network 'NAME' is not active").
    public func bridge(for name: String) throws(RuntimeError) -> String {
        let record = try record(name)
        guard let status = record.status else {
            throw RuntimeError(.operationInvalid, "Requested operation is not valid: network '\(name)' is not active")
        }
        return status.bridge
    }
}
