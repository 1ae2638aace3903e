import Foundation
import SystemPackage
import VirtKitBroker
import VirtKitDomain
import VirtKitHost
import VirtKitModel
import VirtKitMonitor
import VirtKitQMP

/// The start once QEMU runs: brokers, QMP, the monitor channels, the ptys, the status, the guest
/// and `cont`.
extension StartRun {
    /// Brokers of unix chardevs need no answer from QEMU: its private socket listens already
    /// (virtkitd made it), so they connect while QEMU starts up, off the start's critical path.
    /// pty brokers get their log and client sockets now too; the pty itself once QEMU names it.
    mutating func startBrokers() {
        let listening = resources.takeServedListeners()
        let (name, directory, group, logger, phase) = (plan.domain.name, plan.paths.domainDirectory, launcher.socketGroup,
                                                       launcher.logger, self.phase)
        let early = brokered.filter { $0.peerSocket != nil }
        resources.unixBrokers = Task {
            defer { phase("unix brokers ready") }
            return try await GuestBrokers.start(records: early, guestName: name, guestDirectory: directory, socketGroup: group,
                                                logger: logger, strict: true, listening: listening, linking: false)
        }
        let ptyRecords = brokered.filter { $0.peerSocket == nil }
        let all = brokered
        resources.ptyBrokers = Task {
            var prepared: [(record: BrokeredChardev, broker: ChardevBroker)] = []
            do throws(HostError) {
                for record in ptyRecords {
                    prepared.append((record, try await GuestBrokers.prepareCore(record, guestName: name, logger: logger)))
                }
            } catch {
                for item in prepared { await item.broker.stop() }
                throw error
            }
            defer { phase("pty consoles ready") }
            let entries = try await GuestBrokers.serve(prepared: prepared, guestDirectory: directory, socketGroup: group)
            // Every chardev's name links (`console0`, channel names, `default`): symlinks cost
            // ext4 an inode each, so they are made here, once, while QEMU initialises.
            GuestBrokers.linkNames(all, guestDirectory: directory)
            return entries
        }
    }

    /// QEMU greets early and answers only once its main loop runs (tens of ms later under TCG;
    /// docs/performance.md): the negotiation is pipelined, and the monitor channels and
    /// query-chardev are set going meanwhile.
    mutating func connectQMP() async -> StartSequence.Event {
        phase("spawned")
        do {
            let qmp = try await QMP.Client.connect(unixPath: plan.monitorPath, timeout: .seconds(60), pipelined: true)
            self.qmp = qmp
            resources.qmp = qmp
        } catch {
            // QEMU that dies at start closes the monitor before its greeting: its stderr says why.
            return .qmpConnectFailed
        }
        phase("qmp greeted")
        return .qmpConnected
    }

    mutating func queryChardev() {
        guard let qmp else { return }
        chardevs = Task {
            do throws(QMP.Error) {
                return .success(try await qmp.queryChardev())
            } catch {
                return .failure(error)
            }
        }
    }

    /// The definition this run started from, for a re-attach after the definition changed
    /// (written while QEMU initialises).
    mutating func writeLiveDefinition() -> StartSequence.Event {
        do {
            try AtomicFile.write(DomainFormatter.format(plan.domain), to: plan.guestDirectory.appending("domain.xml"), durable: false)
        } catch {
            return .qemuFailed("cannot save the live definition: \(error)")
        }
        return .liveDefinitionWritten
    }

    /// The monitor channels, set up while QEMU initialises; a client's `quit` waits for the guest.
    mutating func startMonitor() {
        guard let qmp else { return }
        let pending = PendingGuest()
        resources.pending = pending
        let names = RunningGuest.brokeredChardevs(plan.descriptorRecords, brokered)
        let (name, directory, tcp, rules, logger, phase) = (plan.domain.name, plan.paths.domainDirectory, monitorPlan,
                                                            launcher.monitorRules, launcher.logger, self.phase)
        resources.monitor = Task { () -> Result<MonitorServer, any Error> in
            defer { phase("monitor ready") }
            do {
                return .success(try await RunningGuest.serveMonitor(
                    name: name, guestDirectory: directory, brokeredChardevs: names, qmp: qmp,
                    plan: tcp, fallback: nil, rules: rules, logger: logger, owner: { await pending.guest() }))
            } catch {
                return .failure(error)
            }
        }
    }

    /// query-chardev's ptys, by alias.
    mutating func awaitChardevs() async -> StartSequence.Event {
        guard let chardevs else { return .chardevsQueried(.failure(.disconnected)) }
        let result = await chardevs.value.map(StartSequence.ptys(from:))
        if case .success = result { phase("query-chardev") }
        return .chardevsQueried(result)
    }

    /// The pty brokers' QEMU side, before the CPUs run; pty records QEMU named no pty for go.
    mutating func attachConsoles(ptys: [String: String]) async -> StartSequence.Event {
        if machine.ptysAnnounced { phase("ptys announced") }
        for index in brokered.indices.reversed() where brokered[index].peerSocket == nil {
            if let pty = ptys[brokered[index].alias] { brokered[index].pty = pty } else { brokered.remove(at: index) }
        }
        do {
            guard let unixTask = resources.unixBrokers, let ptyTask = resources.ptyBrokers else {
                return .consolesFailed("cannot serve the consoles: the brokers were not started")
            }
            let unixBrokers = try await unixTask.value
            var entries: [GuestBrokers.Entry] = []
            for entry in try await ptyTask.value {
                guard let record = brokered.first(where: { $0.alias == entry.record.alias }) else {
                    await GuestBrokers.stop(entry, guestDirectory: plan.paths.domainDirectory)  // QEMU named no pty
                    continue
                }
                try await GuestBrokers.attachPeer(record, to: entry.broker, guestDirectory: plan.paths.domainDirectory,
                                                  reattach: false, logger: launcher.logger)
                entries.append(GuestBrokers.Entry(record: record, broker: entry.broker, listeners: entry.listeners))
            }
            brokers = unixBrokers.merging(entries)
        } catch {
            return .consolesFailed("cannot serve the consoles: \(error)")
        }
        phase("brokers")
        return .consolesAttached
    }

    /// The status is written before `cont` is sent, as libvirt writes its status first; it says
    /// `paused` as asked (a re-attach asks QEMU anyway) and records the monitor's ports in its
    /// one write. The guest's events are subscribed to first, so none after `cont` is missed.
    mutating func writeStatus(ptys: [String: String]) async -> StartSequence.Event {
        guard let qmp, let process = resources.process else { return .qemuFailed("cannot write status: QEMU is gone") }
        events = qmp.events()
        var status = GuestStatus(
            name: plan.domain.name, uuid: plan.domain.uuid, id: plan.id, process: process, emulator: plan.emulator,
            accelerator: plan.runDomain.virtType == .kvm ? "kvm" : "tcg", monitorPath: plan.monitorPath,
            guestDirectory: plan.guestDirectory.string, createdSockets: resources.createdSockets,
            descriptors: plan.descriptorRecords, ptys: ptys, channels: [:], paused: machine.paused, stopping: nil,
            startedAt: Date())
        status.brokered = brokered
        if !taps.isEmpty { status.taps = taps }
        monitorResult = await resources.monitor?.value
        if case .success(let server) = monitorResult {
            status.monitorPorts = server.tcpPorts.map { GuestStatus.MonitorPorts(monitor: $0.monitor, command: $0.command) }
            status.monitorTCPDisabledReason = server.tcpDisabledReason
        }
        do {
            try AtomicFile.makeDirectory(launcher.layout.statusDirectory)
            try status.write(to: resources.statusPath)
        } catch {
            return .qemuFailed("cannot write status: \(error)")
        }
        self.status = status
        phase("status")
        return .statusWritten
    }

    /// `cont`, sent now and awaited later: with the ptys announced it goes out while QEMU still
    /// initialises, queued behind query-chardev, so QEMU answers both back to back and the CPUs
    /// start while the guest is being made.
    mutating func sendCont() {
        guard let qmp else { return }
        cont = PendingReply("cont", on: qmp, timeout: .seconds(10))
    }

    /// A pty no console serves, unannounced: the status gets what query-chardev says.
    mutating func rewriteStatus(ptys: [String: String]) {
        status?.ptys = ptys
        try? status?.write(to: resources.statusPath)
    }

    /// The guest takes over everything the start holds.
    mutating func makeGuest() async -> StartSequence.Event {
        guard let qmp, let status, let brokers else { return .qemuFailed("cannot make the guest: the start is incomplete") }
        let guest = RunningGuest(domain: plan.domain, status: status, qmp: qmp, layout: launcher.layout,
                                 logger: launcher.logger, onExit: onExit)
        await guest.adopt(brokers)
        await guest.watch(events: events)
        await resources.pending?.settle(guest)
        phase("guest")
        switch monitorResult {
        case .success(let server): await guest.adoptMonitor(server, recorded: true)
        case .failure(let error): await guest.monitorFailed(error)
        case nil: break
        }
        phase("monitor")
        GuestFiles.linkByName(layout: launcher.layout, name: plan.domain.name, guestDirectory: plan.guestDirectory)
        resources.handOver()
        self.guest = guest
        return .guestMade
    }

    mutating func awaitCont() async -> StartSequence.Event {
        guard let cont else { return .contAnswered(.disconnected) }
        if case .failure(let error) = await cont.value { return .contAnswered(error) }
        phase("cont")
        return .contAnswered(nil)
    }
}
