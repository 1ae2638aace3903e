import Foundation
import Logging
import SystemPackage
import VirtKitBroker
import VirtKitDomain
import VirtKitHost
import VirtKitModel
import VirtKitMonitor
import VirtKitQMP
#if canImport(Glibc)
import Glibc
#endif

/// The guest's monitor channels (qemu-init's interactive and command channels).
extension RunningGuest {
    /// Serves the guest's interactive and command monitor channels over the one QMP connection.
    /// A failure leaves the guest running without them (logged); TCP trouble only turns TCP off.
    /// `fallback`: the plan to try when `plan`'s fixed ports turn out to be taken (a re-attach
    /// whose old ports someone else bound meanwhile).
    func startMonitor(plan: MonitorServer.TCPPlan, fallback: MonitorServer.TCPPlan? = nil, rules: MonitorRules) async {
        let status = snapshot
        do {
            let server = try await Self.serveMonitor(
                name: domain.name, guestDirectory: status.guestDirectory,
                brokeredChardevs: Self.brokeredChardevs(status.descriptors, status.brokered ?? []),
                qmp: qmp, plan: plan, fallback: fallback, rules: rules, logger: logger, owner: { [weak self] in self })
            adoptMonitor(server)
        } catch {
            monitorFailed(error)
        }
    }

    /// Starts the monitor channels of guest `name` before its ``RunningGuest`` may exist (a start
    /// sets them up while QEMU initialises): a monitor client's `quit` reaches the guest that
    /// `owner` gives (``PendingGuest/guest()`` waits for the start to make it).
    static func serveMonitor(name: String, guestDirectory: String, brokeredChardevs: Set<String>, qmp: QMP.Client,
                             plan: MonitorServer.TCPPlan, fallback: MonitorServer.TCPPlan?, rules: MonitorRules, logger: Logger,
                             owner: @escaping @Sendable () async -> RunningGuest?) async throws -> MonitorServer {
        var configuration = MonitorServer.Configuration(guestName: name, unixDirectory: FilePath(guestDirectory), tcp: plan,
                                                        tcpAccess: rules.tcpAccess)
        let policy = MonitorPolicy.standard(
            onQuit: { await owner()?.quitFromMonitor() },
            brokeredChardevs: { brokeredChardevs }, allowHostAccess: rules.allowHostAccess)
        var server = try await MonitorServer.start(configuration: configuration, qmp: qmp, policy: policy, logger: logger)
        if server.tcpPorts == nil, let fallback {
            await server.stop()
            configuration.tcp = fallback
            server = try await MonitorServer.start(configuration: configuration, qmp: qmp, policy: policy, logger: logger)
        }
        return server
    }

    /// Chardevs whose sockets VirtKit created: removing one behind VirtKit's back breaks it.
    static func brokeredChardevs(_ descriptors: [GuestStatus.DescriptorRecord], _ brokered: [BrokeredChardev]) -> Set<String> {
        Set(descriptors.filter { $0.purpose.hasPrefix("listening UNIX socket") }.map {
            "char" + $0.label.replacingOccurrences(of: "-source", with: "")
        }).union(brokered.map { "char" + $0.alias })
    }

    /// Takes over monitor channels started for this guest, and records their ports in the
    /// status unless it was written with them (`recorded`).
    func adoptMonitor(_ server: MonitorServer, recorded: Bool = false) {
        monitor = server
        if !recorded {
            update {
                $0.monitorPorts = server.tcpPorts.map { GuestStatus.MonitorPorts(monitor: $0.monitor, command: $0.command) }
                $0.monitorTCPDisabledReason = server.tcpDisabledReason
            }
        }
        if let reason = server.tcpDisabledReason {
            logger.warning("TCP monitoring is off: \(reason)", metadata: ["domain": "\(domain.name)"])
            appendLog("TCP monitoring is off: \(reason)")
        }
    }

    func monitorFailed(_ error: any Error) {
        logger.error("monitor channels not available: \(error)", metadata: ["domain": "\(domain.name)"])
        appendLog("monitor channels not available: \(error)")
    }

    /// One command through the monitor channels' command path (see ``Hypervisor/monitorCommand(name:line:)``).
    func monitorCommand(_ line: String) async -> String? {
        guard let monitor else { return nil }
        return await monitor.command(line)
    }

    /// What the monitor channels serve now: (endpoints, TCP ports, why TCP is off).
    public func monitorEndpoints() -> (endpoints: [MonitorEndpoint], disabledReason: String?)? {
        guard let monitor else { return nil }
        return (monitor.endpoints, monitor.tcpDisabledReason)
    }

    /// `quit` typed at a monitor: a destroy that VirtKit records, not a QEMU that vanishes.
    /// The client is answered at once; the ladder runs on (it ends the client's connection).
    private func quitFromMonitor() async {
        logger.info("quit from a monitor client: destroying", metadata: ["domain": "\(domain.name)"])
        update { $0.stopping = .destroy }
        // Unstructured: the monitor client must get its answer before the guest goes away.
        Task { await self.destroy() }
    }
}
