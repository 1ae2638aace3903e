import Foundation
import Logging
import Synchronization
import SystemPackage
import VirtKitModel
import VirtKitDomain
import VirtKitGuestAgent
import VirtKitHost
import VirtKitMonitor
import VirtKitQMP
#if canImport(Glibc)
import Glibc
#endif

/// One QEMU process and everything virtkitd holds for it: the QMP connection, the status file,
/// the files it created. It reacts to QMP events and to the process's exit, and carries out the
/// stop ladder. An actor: its operations run on its own executor; the status is also kept in a
/// `Mutex` so that the hypervisor can read a snapshot without waiting behind a stop ladder.
public actor RunningGuest {
    /// The live definition: as started, plus the devices hot-plugged since.
    nonisolated public var domain: Domain { domainBox.withLock { $0 } }
    private let domainBox: Mutex<Domain>
    let layout: RuntimeLayout
    let logger: Logger
    private let statusBox: Mutex<GuestStatus>
    let qmp: QMP.Client
    private let exited = ExitLatch()
    /// libvirt's fake reboot: the next SHUTDOWN resets and continues instead of quitting.
    private var rebootPending = false
    /// The monitor channels served to many clients (nil until started, or when they failed).
    private(set) var monitor: MonitorServer?
    /// The console brokers of the chardevs virtkitd is QEMU's peer on.
    private(set) var brokers: GuestBrokers?
    /// The guest agent client, over the agent channel's broker (made at first use).
    var agentClient: GuestAgent.Client?
    /// Told once, after the process is gone and its files are cleaned up.
    private let onExit: @Sendable (DomainStateReason) async -> Void

    init(domain: Domain, status: GuestStatus, qmp: QMP.Client, layout: RuntimeLayout, logger: Logger,
         onExit: @escaping @Sendable (DomainStateReason) async -> Void) {
        self.domainBox = Mutex(domain)
        self.statusBox = Mutex(status)
        self.qmp = qmp
        self.layout = layout
        self.logger = logger
        self.onExit = onExit
    }

    /// Starts following events and the process's exit. Unstructured tasks: they live as long as
    /// QEMU does, which no caller's scope covers. `events`: a subscription taken earlier (a
    /// start takes it before `cont`, so no event after it is missed); nil subscribes now.
    func watch(events: AsyncStream<QMP.Event>? = nil) {
        let events = events ?? qmp.events()
        Task { [weak self] in
            for await event in events { await self?.handle(event) }
        }
        let process = snapshot.process
        Task { [weak self] in
            _ = await ProcessExitWatcher.waitForExit(process)
            await self?.processExited()
        }
    }

    /// The status as it is now.
    nonisolated public var snapshot: GuestStatus { statusBox.withLock { $0 } }
    nonisolated public var id: Int { snapshot.id }

    func handle(_ event: QMP.Event) async {
        switch event.kind {
        case .stop:
            update { $0.paused = true }
        case .resume:
            update { $0.paused = false }
        case .shutdown:
            if rebootPending {
                rebootPending = false
                logger.info("guest shut down for a reboot: resetting", metadata: ["domain": "\(domain.name)"])
                _ = try? await qmp.systemReset(timeout: .seconds(5))
                _ = try? await qmp.cont(timeout: .seconds(5))
                return
            }
            // -no-shutdown leaves QEMU waiting: on_poweroff='destroy' (the only action VirtKit
            // runs) means quit, as libvirt does.
            if snapshot.stopping == nil { update { $0.stopping = .shutdown } }
            _ = try? await qmp.quit(timeout: .seconds(5))
        case .reset where domain.onReboot == .destroy:
            if snapshot.stopping == nil { update { $0.stopping = .shutdown } }
            _ = try? await qmp.quit(timeout: .seconds(5))
        case .vserportChange:
            guard let alias = event.data["id"]?.string, let open = event.data["open"]?.bool,
                  let name = channelName(alias: alias) else { return }
            update { $0.channels[name] = open }
        case .guestPanicked:
            logger.warning("guest panicked", metadata: ["domain": "\(domain.name)"])
        default:
            break
        }
    }

    /// Reads which virtio channels the guest holds open from `query-chardev`'s `frontend-open`
    /// (as libvirt does on a reconnect): VSERPORT_CHANGE events sent while no daemon listened
    /// are lost.
    func refreshChannelStates() async {
        guard let chardevs = try? await qmp.queryChardev() else { return }
        var states: [String: Bool] = [:]
        for chardev in chardevs where chardev.label.hasPrefix("char") {
            if let name = channelName(alias: String(chardev.label.dropFirst("char".count))) {
                states[name] = chardev.frontendOpen
            }
        }
        update { $0.channels.merge(states) { _, new in new } }
    }

    /// Replaces the live definition (a hot-plug) and saves it in the run directory, where a
    /// re-attach reads it.
    func setLiveDomain(_ domain: Domain) {
        domainBox.withLock { $0 = domain }
        let path = FilePath(snapshot.guestDirectory).appending("domain.xml")
        do {
            try AtomicFile.write(DomainFormatter.format(domain), to: path, durable: false)
        } catch {
            logger.error("cannot save the live definition: \(error)", metadata: ["domain": "\(domain.name)"])
        }
    }

    /// Replaces the console brokers (a hot-plug added or removed one).
    func setBrokers(_ brokers: GuestBrokers) {
        self.brokers = brokers
    }

    /// Takes over the guest's console brokers (stopped when QEMU exits).
    func adopt(_ brokers: GuestBrokers) {
        self.brokers = brokers
    }

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

    /// The virtio channel name of device `alias` (`channel0`), as the builder named it.
    func channelName(alias: String) -> String? {
        for (i, channel) in domain.devices.channels.enumerated() where (channel.alias ?? "channel\(i)") == alias {
            if case .virtioChannel(let name?, _) = channel.target { return name }
        }
        return nil
    }

    func update(_ change: (inout GuestStatus) -> Void) {
        let (status, changed) = statusBox.withLock { status in
            let before = status
            change(&status)
            return (status, status != before)
        }
        // An event that changes nothing (the RESUME that a start's own `cont` brings, the status
        // already says running) writes nothing: that write competed with QEMU for the CPUs just
        // as the start waited for `cont`'s answer.
        guard changed else { return }
        do {
            try status.write(to: layout.statusPath(domain.name))
        } catch {
            logger.error("cannot write status: \(error)", metadata: ["domain": "\(domain.name)"])
        }
    }

    // MARK: - Stopping

    /// Waits until QEMU has exited and been cleaned up; false if `timeout` passed first.
    public func waitForExit(timeout: Duration?) async -> Bool {
        await exited.wait(timeout: timeout)
    }

    /// The ladder's first rung: marks the stop and presses the ACPI power button.
    public func pressPowerButton() async {
        if snapshot.stopping == nil { update { $0.stopping = .shutdown } }
        do {
            try await qmp.systemPowerdown(timeout: .seconds(5))
        } catch {
            logger.warning("system_powerdown failed: \(error)", metadata: ["domain": "\(domain.name)"])
        }
    }

    /// Waits `timeout` for the guest to power off, then goes down the rest of the ladder.
    public func finishShutdown(timeout: Duration) async {
        if await exited.wait(timeout: timeout) { return }
        logger.info("guest did not power off within \(timeout): going down the ladder",
                    metadata: ["domain": "\(domain.name)"])
        await descendLadder()
    }

    /// Straight down the ladder: quit, SIGTERM, SIGKILL.
    public func destroy() async {
        update { $0.stopping = .destroy }
        await descendLadder()
    }

    private func descendLadder() async {
        _ = try? await qmp.quit(timeout: .seconds(2))
        if await exited.wait(timeout: .seconds(5)) { return }
        snapshot.process.send(signal: SIGTERM)
        if await exited.wait(timeout: .seconds(5)) { return }
        snapshot.process.send(signal: SIGKILL)
        _ = await exited.wait(timeout: .seconds(10))
    }

    /// libvirt's default reboot for QEMU: power button, and the SHUTDOWN that follows resets.
    public func reboot() async throws(RuntimeError) {
        rebootPending = true
        do {
            try await qmp.systemPowerdown(timeout: .seconds(5))
        } catch {
            rebootPending = false
            throw RuntimeError(.operationFailed, "cannot reboot domain '\(domain.name)': \(error)", cause: error)
        }
    }

    public func suspend() async throws(RuntimeError) {
        do { try await qmp.stop(timeout: .seconds(10)) } catch {
            throw RuntimeError(.operationFailed, "cannot suspend domain '\(domain.name)': \(error)", cause: error)
        }
        update { $0.paused = true }
    }

    public func resume() async throws(RuntimeError) {
        do { try await qmp.cont(timeout: .seconds(10)) } catch {
            throw RuntimeError(.operationFailed, "cannot resume domain '\(domain.name)': \(error)", cause: error)
        }
        update { $0.paused = false }
    }

    private func processExited() async {
        await monitor?.stop()
        monitor = nil
        await agentClient?.close()
        agentClient = nil
        await brokers?.stop()
        brokers = nil
        await qmp.close()
        let status = snapshot
        let reason: DomainStateReason
        switch status.stopping {
        case .shutdown: reason = .shutdown
        case .destroy: reason = .destroyed
        case nil: reason = .crashed
        }
        if reason == .crashed {
            logger.error("QEMU exited unexpectedly", metadata: ["domain": "\(domain.name)", "pid": "\(status.process.pid)"])
        }
        GuestFiles.remove(status: status, layout: layout)
        appendLog("shutting down, reason=\(reason.rawValue)")
        // The owner learns of the exit before any waiter wakes, so a finished destroy is never
        // followed by a list that still says running.
        await onExit(reason)
        exited.open()
    }

    private func appendLog(_ line: String) {
        GuestFiles.appendLog(layout.logPath(domain.name), line)
    }
}
