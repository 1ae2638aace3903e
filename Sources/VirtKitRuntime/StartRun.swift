import Foundation
import Logging
import SystemPackage
import VirtKitBroker
import VirtKitDomain
import VirtKitHost
import VirtKitModel
import VirtKitMonitor
import VirtKitQEMU
import VirtKitQMP
import VirtKitText
#if canImport(Glibc)
import Glibc
#endif

/// One start, carried out: it feeds what happened to its ``StartSequence`` and performs the
/// actions the sequence returns, in order; every handle it acquires goes into its
/// ``StartResources``, which alone undoes them when the sequence says the start failed. This
/// part prepares and spawns QEMU; `StartRun+QEMU.swift` is what follows while QEMU runs.
struct StartRun {
    /// The debug log's phase lines (`virtkitd --log-level debug`): where a start spends its time.
    struct Phases: Sendable {
        let logger: Logger
        let domain: String
        let began: ContinuousClock.Instant

        func callAsFunction(_ name: String) {
            logger.debug("start phase", metadata: ["domain": "\(domain)", "phase": "\(name)",
                                                   "ms": "\((ContinuousClock.now - began) / .milliseconds(1))"])
        }
    }

    let launcher: GuestLauncher
    let plan: StartPlan
    let monitorPlan: MonitorServer.TCPPlan
    let phase: Phases
    let onExit: @Sendable (DomainStateReason) async -> Void
    var machine: StartSequence
    var resources: StartResources
    /// The brokered chardevs; pty records get their pty (or go) once QEMU names them.
    var brokered: [BrokeredChardev]
    var log: FileDescriptor?
    /// Where this start's part of the domain log begins (QEMU's pty announcements, its stderr).
    var logStart: Int64 = 0
    var qmp: QMP.Client?
    var chardevs: Task<Result<[QMP.ChardevInfo], QMP.Error>, Never>?
    var brokers: GuestBrokers?
    var events: AsyncStream<QMP.Event>?
    var status: GuestStatus?
    var monitorResult: Result<MonitorServer, any Error>?
    var cont: PendingReply?
    var guest: RunningGuest?
    /// The start's record for a daemon killed in its middle, rewritten as the start makes things.
    var intent: StartIntent
    /// Files QEMU writes from their start (not appending): emptied right before the spawn.
    var truncateAtSpawn: [FileDescriptor] = []
    /// The taps made for the interfaces, by alias (`net0`).
    var taps: [String: GuestStatus.Tap] = [:]

    init(launcher: GuestLauncher, plan: StartPlan, paused: Bool, monitorPlan: MonitorServer.TCPPlan,
         began: ContinuousClock.Instant, onExit: @escaping @Sendable (DomainStateReason) async -> Void) {
        self.launcher = launcher
        self.plan = plan
        self.monitorPlan = monitorPlan
        self.onExit = onExit
        phase = Phases(logger: launcher.logger, domain: plan.domain.name, began: began)
        machine = StartSequence(paused: paused, ptyAliases: plan.ptyAliases)
        resources = StartResources(guestDirectory: plan.guestDirectory, statusPath: launcher.layout.statusPath(plan.domain.name),
                                   intentPath: launcher.layout.startIntentPath(plan.domain.name))
        brokered = plan.brokered
        intent = StartIntent(name: plan.domain.name, uuid: plan.domain.uuid, id: plan.id, emulator: Self.resolved(plan.emulator),
                             guestDirectory: plan.guestDirectory.string, createdSockets: [], paused: paused, process: nil)
    }

    var logPath: FilePath { launcher.layout.logPath(plan.domain.name) }

    /// Runs the start to its end: the running (or paused) guest, or the error with nothing
    /// left behind.
    mutating func run() async throws(RuntimeError) -> RunningGuest {
        defer { try? log?.close() }
        var queue = machine.handle(.begin)
        var next = 0
        while next < queue.count {
            let action = queue[next]
            next += 1
            switch action {
            case .finish:
                if let guest {
                    unlink(resources.intentPath.string)  // the start is done: nothing to finish or undo
                    return guest
                }
            case .abort(let failure, let undo):
                throw await abort(failure, undo: undo)
            case .abandonGuest(let error):
                await guest?.destroy()
                unlink(resources.intentPath.string)
                throw RuntimeError(.operationFailed, "cannot start CPUs of domain '\(plan.domain.name)': \(error)", cause: error)
            default:
                if let event = await perform(action) { queue += machine.handle(event) }
            }
        }
        await resources.undo(machine.ledger.reversed())
        throw RuntimeError(.internalError, "internal error: the start of domain '\(plan.domain.name)' ended in phase \(machine.phase)")
    }

    /// Carries out `action`; the event it led to, nil for one that only sets something going.
    private mutating func perform(_ action: StartSequence.Action) async -> StartSequence.Event? {
        switch action {
        case .prepare: return prepare()
        case .spawn: return spawn()
        case .startBrokers: startBrokers()
        case .connectQMP: return await connectQMP()
        case .queryChardev: queryChardev()
        case .writeLiveDefinition: return writeLiveDefinition()
        case .startMonitor: startMonitor()
        case .readAnnouncedPtys: return .ptysRead(GuestFiles.announcedPtys(logPath, from: logStart))
        case .awaitChardevs: return await awaitChardevs()
        case .attachConsoles(let ptys): return await attachConsoles(ptys: ptys)
        case .writeStatus(let ptys): return await writeStatus(ptys: ptys)
        case .sendCont: sendCont()
        case .rewriteStatus(let ptys): rewriteStatus(ptys: ptys)
        case .makeGuest: return await makeGuest()
        case .awaitCont: return await awaitCont()
        case .finish, .abort, .abandonGuest: break
        }
        return nil
    }

    /// Undoes `undo` and says why the start failed; once QEMU ran, with its stderr.
    private mutating func abort(_ failure: StartSequence.Failure, undo: [StartSequence.Resource]) async -> RuntimeError {
        await resources.undo(undo)
        switch failure {
        case .runtime(let error):
            return error
        case .qemu(let what):
            let stderr = GuestFiles.logTail(logPath, from: logStart)
            return RuntimeError(.operationFailed, "internal error: \(what)" + (stderr.isEmpty ? "" : ": " + stderr))
        }
    }

    // MARK: Before QEMU runs

    /// The run directory, QEMU's master key, the listening sockets and files of the descriptor
    /// plan, and the domain log.
    private mutating func prepare() -> StartSequence.Event {
        let directory = plan.guestDirectory
        do {
            // First of all: a daemon killed from here on leaves a record of what to undo.
            try AtomicFile.makeDirectory(launcher.layout.statusDirectory)
            try intent.write(to: resources.intentPath)
            AtomicFile.removeTree(directory)
            try AtomicFile.makeDirectory(directory)
            if let group = launcher.socketGroup { try UnixSocket.shareDirectory(directory, withGroup: group) }
            // The directory is new and QEMU not yet started: no reader to hide a partial file from.
            try AtomicFile.create(launcher.randomKey(), at: directory.appending("master-key.aes"))
            for planned in plan.invocation.descriptors { try open(planned) }
        } catch {
            return .failed(RuntimeError(.operationFailed, "cannot prepare domain '\(plan.domain.name)': \(error)", cause: error))
        }
        return openLog()
    }

    /// Opens one planned descriptor for QEMU.
    private mutating func open(_ planned: PlannedDescriptor) throws {
        let group = launcher.socketGroup
        switch planned.purpose {
        case .listeningUnixSocket(var path):
            // A brokered socket: QEMU listens privately, virtkitd serves the domain's path.
            // Bound here, before QEMU runs, so a path in use fails the start at once.
            if let record = brokered.first(where: { $0.path == path && planned.label == $0.alias + "-source" }),
               let peer = record.peerSocket {
                let served = try UnixSocket.listen(at: FilePath(path), mode: [.ownerReadWrite])
                resources.createdSockets.append(path)
                resources.servedListeners[record.alias] = served
                if let group { try UnixSocket.share(FilePath(path), withGroup: group) }
                path = peer
            }
            let fd = try UnixSocket.listen(at: FilePath(path), mode: [.ownerReadWrite])
            resources.createdSockets.append(path)
            if let group, !path.hasSuffix("/monitor.sock") { try UnixSocket.share(FilePath(path), withGroup: group) }
            resources.qemuDescriptors.append((fd, planned))
        case .writableFile(let path, let append):
            // Truncated only at the spawn, once nothing else can fail the start.
            let fd = try SafeOpen.forWriting(FilePath(path), append: append)
            resources.qemuDescriptors.append((fd, planned))
            if !append { truncateAtSpawn.append(fd) }
        case .tap(let index):
            let nic = plan.runDomain.devices.interfaces[index]
            let (fd, tap) = try Self.plugTap(nic, domain: plan.domain.name)
            // Not persistent: the tap goes when QEMU's descriptor (and ours, closed after the
            // spawn or on failure) is closed.
            resources.qemuDescriptors.append((fd, planned))
            taps["net\(index)"] = tap
        }
    }

    /// A tap for `nic`, with libvirt's MAC (the guest's with its first byte 0xFE, so the bridge
    /// never takes the guest's address) and the bridge's MTU, plugged into the bridge and up.
    static func plugTap(_ nic: NetworkInterface, domain: String) throws -> (FileDescriptor, GuestStatus.Tap) {
        guard let bridge = nic.sourceBridge else {
            throw RuntimeError(.internalError, "internal error: interface of domain '\(domain)' has no bridge to plug into")
        }
        guard NetworkLink.exists(bridge) else {
            throw RuntimeError(.operationFailed, "operation failed: bridge '\(bridge)' of domain '\(domain)' does not exist")
        }
        // IFF_VNET_HDR for the models QEMU offloads through it (libvirt's qemuInterfaceIsVnetCompatModel).
        let vnetHeader = ["virtio", "e1000e", "vmxnet3"].contains(nic.model ?? "")
        let (fd, name) = try NetworkLink.openTap(nic.targetDev ?? "vnet%d", vnetHeader: vnetHeader)
        do {
            if var mac = nic.mac.flatMap(MACAddress.parse) {
                mac[0] = mac[0] == 0xFE ? 0xFA : 0xFE
                try NetworkLink.setMAC(name, mac)
            }
            if let mtu = AtomicFile.read(FilePath("/sys/class/net/\(bridge)/mtu")).flatMap({ Int(String(decoding: $0, as: UTF8.self).trimmingBlanks) }) {
                try NetworkLink.setMTU(name, mtu)
            }
            try NetworkLink.attach(name, to: bridge)
            try NetworkLink.setUp(name, true)
        } catch {
            try? fd.close()
            throw error
        }
        return (fd, GuestStatus.Tap(name: name, bridge: bridge))
    }

    /// The domain log, with libvirt's header (the command line); QEMU's stdout and stderr go on
    /// in it.
    private mutating func openLog() -> StartSequence.Event {
        do {
            try AtomicFile.makeDirectory(launcher.layout.logDirectory)
            let log = try FileDescriptor.open(logPath, .writeOnly, options: [.create, .append, .closeOnExec],
                                              permissions: [.ownerReadWrite])
            self.log = log
            let header = GuestFiles.timestamp() + ": starting up\n"
                + "LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "
                + plan.invocation.arguments.joined(separator: " ") + "\n"
            _ = try log.writeAll(Array(header.utf8))
            logStart = try log.seek(offset: 0, from: .current)
        } catch {
            return .failed(RuntimeError(.systemError, "cannot open log '\(logPath.string)': \(error)", cause: error))
        }
        return .prepared
    }

    /// QEMU, paused (-S), its descriptors at their planned numbers; the start's record is
    /// written before and completed with QEMU's identity right after.
    private mutating func spawn() -> StartSequence.Event {
        phase("prepared")
        guard let log else { return .failed(RuntimeError(.internalError, "internal error: no log to spawn QEMU with")) }
        intent.createdSockets = resources.createdSockets
        do {
            try intent.write(to: resources.intentPath)
        } catch {
            return .failed(RuntimeError(.systemError, "cannot record the start of domain '\(plan.domain.name)': \(error)",
                                        cause: error))
        }
        for file in truncateAtSpawn where ftruncate(file.rawValue, 0) != 0 {
            return .failed(RuntimeError(.systemError, "cannot truncate a file of domain '\(plan.domain.name)': \(Errno(rawValue: errno))"))
        }
        let home = plan.guestDirectory.string
        let pid: pid_t
        do {
            pid = try ProcessSpawner.spawn(
                executable: FilePath(plan.emulator), arguments: plan.invocation.arguments,
                environment: ["LC_ALL": "C", "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                              "HOME": home, "XDG_DATA_HOME": home, "XDG_CACHE_HOME": home, "XDG_CONFIG_HOME": home],
                output: log,
                placements: resources.qemuDescriptors.map { .init(source: $0.descriptor, target: $0.planned.number) })
        } catch {
            return .failed(RuntimeError(.systemError, error.description, cause: error))
        }
        resources.closeQEMUDescriptors()
        let identity = ProcessIdentity.of(pid: pid) ?? ProcessIdentity(pid: pid, startTime: 0)
        resources.process = identity
        intent.process = identity
        // Without it, a restarted daemon still finds this QEMU by its uuid.
        try? intent.write(to: resources.intentPath)
        return .spawned
    }

    /// `path` with its symbolic links resolved, as /proc/PID/exe names the executable.
    static func resolved(_ path: String) -> String {
        guard let real = realpath(path, nil) else { return path }
        defer { free(real) }
        return String(cString: real)
    }
}
