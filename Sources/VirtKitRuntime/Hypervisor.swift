import Foundation
import Logging
import SystemPackage
import VirtKitModel
import VirtKitDomain
import VirtKitHost
import VirtKitMonitor
import VirtKitQMP
#if canImport(Glibc)
import Glibc
#endif

/// The daemon's domains: their definitions on disk and, for running ones, their QEMU.
///
/// An actor: every domain's record is read and changed on its executor only. Operations that wait
/// (a start's QMP set-up, a stop ladder) leave the record in a transitional state (`starting`,
/// `stopping` in the guest's status) so a concurrent call sees it and is refused.
public actor Hypervisor {
    /// A domain's life: one case per state, each holding that state's resources.
    enum Lifecycle {
        case shutoff(DomainStateReason)
        case starting
        case running(RunningGuest)
    }

    struct Record {
        /// The inactive definition (what `dumpxml --inactive` shows).
        var domain: Domain
        var persistent: Bool
        var lifecycle: Lifecycle
    }

    let layout: RuntimeLayout
    let logger: Logger
    let accelerators: AcceleratorProbe
    let monitorSettings: MonitorSettings
    /// console.conf: log rotation and scrollback of the console brokers.
    let consoleSettings: ConsoleSettings
    /// `--socket-group`: the group guest sockets (and the API socket) are shared with, 0660.
    let socketGroup: gid_t?
    var records: [String: Record] = [:]
    var nextID = 1

    public init(layout: RuntimeLayout, logger: Logger, accelerators: AcceleratorProbe,
                monitorSettings: MonitorSettings = MonitorSettings(), consoleSettings: ConsoleSettings = ConsoleSettings(),
                socketGroup: gid_t? = nil) {
        self.consoleSettings = consoleSettings
        self.socketGroup = socketGroup
        self.layout = layout
        self.logger = logger
        self.accelerators = accelerators
        self.monitorSettings = monitorSettings
    }

    var launcher: GuestLauncher {
        GuestLauncher(layout: layout, logger: logger, socketGroup: socketGroup, consoleSettings: consoleSettings,
                      monitorRules: monitorRules)
    }

    var monitorRules: MonitorRules {
        MonitorRules(tcpAccess: PeerAccess(group: socketGroup), allowHostAccess: monitorSettings.allowHostAccess)
    }

    // MARK: - Start-up

    /// Loads every saved definition and re-attaches to every guest still running; the status of
    /// guests that are gone is cleaned up and they are marked shut off.
    public func load() async throws(RuntimeError) {
        do {
            for directory in [layout.stateDirectory, layout.definitionsDirectory, layout.runDirectory,
                              layout.statusDirectory, layout.guestsDirectory, layout.logDirectory] {
                try AtomicFile.makeDirectory(directory)
            }
            if let socketGroup {
                for directory in [layout.runDirectory, layout.guestsDirectory] {
                    try UnixSocket.shareDirectory(directory, withGroup: socketGroup)
                }
            }
        } catch {
            throw RuntimeError(.systemError, error.description)
        }
        for file in Self.list(layout.definitionsDirectory) where file.hasSuffix(".xml") {
            let path = layout.definitionsDirectory.appending(file)
            let text = String(decoding: AtomicFile.read(path) ?? [], as: UTF8.self)
            do {
                let domain = try DomainParser.define(xml: text)
                records[domain.name] = Record(domain: domain, persistent: true, lifecycle: .shutoff(.unknown))
            } catch {
                logger.error("ignoring definition \(path.string): \(error.message)")
            }
        }
        for file in Self.list(layout.statusDirectory) where file.hasSuffix(".json") {
            guard let status = GuestStatus.read(from: layout.statusDirectory.appending(file)) else { continue }
            await reattach(status)
        }
    }

    private func reattach(_ status: GuestStatus) async {
        nextID = max(nextID, status.id + 1)
        let alive = status.process.isAlive && status.process.arguments.contains(status.uuid)
        // The live definition the run keeps (with hot-plugged devices), else the saved one.
        var domain: Domain?
        if let xml = AtomicFile.read(FilePath(status.guestDirectory).appending("domain.xml")) {
            domain = try? DomainParser.define(xml: String(decoding: xml, as: UTF8.self))
        }
        if domain == nil { domain = records[status.name]?.domain }
        guard alive, let domain else {
            logger.info("guest \(status.name) is gone: cleaning up", metadata: ["pid": "\(status.process.pid)"])
            GuestFiles.remove(status: status, layout: layout)
            if records[status.name] != nil {
                records[status.name]?.lifecycle = .shutoff(status.stopping == nil ? .crashed : .shutdown)
            }
            return
        }
        do {
            let qmp = try await QMP.Client.connect(unixPath: status.monitorPath, timeout: .seconds(10))
            var current = status
            current.paused = !((try? await qmp.queryStatus().running) ?? true)
            let guest = RunningGuest(domain: domain, status: current, qmp: qmp, layout: layout, logger: logger,
                                     onExit: exitHandler(name: status.name, id: status.id))
            await guest.watch()
            await guest.refreshChannelStates()
            if let records = status.brokered, !records.isEmpty,
               let brokers = try? await GuestBrokers.start(
                   records: records, guestName: status.name, guestDirectory: status.guestDirectory,
                   socketGroup: socketGroup, logger: logger, strict: false) {
                await guest.adopt(brokers)
            }
            // The same ports as before the restart, so clients find the guest where it was.
            let configured = (try? monitorPlan(for: domain)) ?? .disabled
            if let ports = status.monitorPorts {
                await guest.startMonitor(plan: .fixed(monitorPort: ports.monitor), fallback: configured, rules: monitorRules)
            } else {
                await guest.startMonitor(plan: configured, rules: monitorRules)
            }
            GuestFiles.linkByName(layout: layout, name: status.name, guestDirectory: FilePath(status.guestDirectory))
            if records[status.name] == nil {
                records[status.name] = Record(domain: domain, persistent: false, lifecycle: .starting)
            }
            records[status.name]?.lifecycle = .running(guest)
            logger.info("re-attached to \(status.name)", metadata: ["pid": "\(status.process.pid)", "id": "\(status.id)"])
        } catch {
            logger.error("cannot re-attach to \(status.name): \(error); leaving it running")
        }
    }

    nonisolated func exitHandler(name: String, id: Int) -> @Sendable (DomainStateReason) async -> Void {
        { [weak self] reason in await self?.guestExited(name: name, id: id, reason: reason) }
    }

    private func guestExited(name: String, id: Int, reason: DomainStateReason) {
        guard let record = records[name], case .running(let guest) = record.lifecycle, guest.id == id else { return }
        if record.persistent {
            records[name]?.lifecycle = .shutoff(reason)
        } else {
            records[name] = nil
        }
        logger.info("domain \(name) stopped", metadata: ["reason": "\(reason.rawValue)"])
    }

    /// Where a newly started guest's monitor listens on TCP: its metadata's port, else the next
    /// of monitor.conf's base (one more per running guest, ports in use skipped), or not at all.
    func monitorPlan(for domain: Domain) throws(RuntimeError) -> MonitorServer.TCPPlan {
        let own: VirtKitMonitorSettings?
        do { own = try domain.virtkitMonitor } catch { throw RuntimeError(.configUnsupported, error.message) }
        if own?.tcp == false || (own?.tcp == nil && !monitorSettings.tcp) { return .disabled }
        if let port = own?.port { return .fixed(monitorPort: port) }
        let running = records.values.filter { if case .running = $0.lifecycle { return true } else { return false } }.count
        return .automatic(base: monitorSettings.basePort, ordinal: running)
    }

    func setLifecycle(_ name: String, _ lifecycle: Lifecycle) {
        records[name]?.lifecycle = lifecycle
    }

    static func list(_ directory: FilePath) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: directory.string))?.sorted() ?? []
    }
}
