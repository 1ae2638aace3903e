import Foundation
import Logging
import SystemPackage
import VirtKitModel
import VirtKitBroker
import VirtKitDomain
import VirtKitHost
import VirtKitMonitor
import VirtKitQEMU
import VirtKitQMP
#if canImport(Glibc)
import Glibc
#endif

/// Carries out a real start as libvirt does: the guest's run directory, the listening sockets and
/// files of the descriptor plan opened by virtkitd, QEMU spawned paused (-S) with them at their
/// numbers, QMP set up (capabilities, pty paths), then `cont` unless asked to stay paused.
/// On any failure nothing is left behind: no process, no socket, no directory.
struct GuestLauncher {
    let layout: RuntimeLayout
    let logger: Logger
    /// The group the sockets VirtKit creates for QEMU are given to (then 0660); nil: 0600.
    var socketGroup: gid_t?
    /// Log rotation and scrollback of the console brokers.
    var consoleSettings = ConsoleSettings()
    /// Who may use the monitor channels, and what they may do.
    var monitorRules = MonitorRules()

    /// The paths the command-line builder uses for guest `id`.
    func paths(id: Int, name: String) -> QEMUPaths {
        let directory = layout.guestDirectory(id: id, name: name).string
        return QEMUPaths(domainDirectory: directory, channelDirectory: directory)
    }

    /// Every listening socket path VirtKit would generate for `domain` as guest `id` that does not
    /// fit in `sockaddr_un`, with its length. Explicit paths are not listed: any length works.
    func overlongGeneratedPaths(_ domain: Domain, id: Int) -> [(String, Int)] {
        let paths = self.paths(id: id, name: domain.name)
        guard let invocation = try? QEMUCommandLineBuilder(paths: paths, mode: .start(firstFD: 3)).build(domain) else {
            return []
        }
        return overlongGeneratedPaths(invocation, paths: paths)
    }

    func overlongGeneratedPaths(_ invocation: QEMUInvocation, paths: QEMUPaths) -> [(String, Int)] {
        invocation.descriptors.compactMap { descriptor in
            guard case .listeningUnixSocket(let path) = descriptor.purpose,
                  path.hasPrefix(paths.domainDirectory + "/"),
                  path.utf8.count > UnixSocket.maximumDirectPathLength else { return nil }
            return (path, path.utf8.count)
        }
    }

    /// `began`: when the start was asked for (the debug log's phases count from it).
    func launch(domain: Domain, id: Int, paused: Bool, accelerator: Accelerator, monitorPlan: MonitorServer.TCPPlan,
                began: ContinuousClock.Instant = .now, onExit: @escaping @Sendable (DomainStateReason) async -> Void) async throws(RuntimeError) -> RunningGuest {
        var runDomain = domain
        if domain.virtType == .kvm && accelerator == .tcg { runDomain.virtType = .qemu }
        let paths = self.paths(id: id, name: domain.name)
        let guestDirectory = FilePath(paths.domainDirectory)
        let invocation: QEMUInvocation
        do {
            invocation = try QEMUCommandLineBuilder(paths: paths, mode: .start(firstFD: 3)).build(runDomain)
        } catch {
            throw RuntimeError(.configUnsupported, error.message)
        }
        if let (path, length) = overlongGeneratedPaths(invocation, paths: paths).first {
            throw RuntimeError(.configUnsupported,
                           "UNIX socket path '\(path)' too long: \(length) bytes, at most \(UnixSocket.maximumDirectPathLength) fit")
        }
        guard let emulator = invocation.arguments.first, access(emulator, X_OK) == 0 else {
            let emulator = invocation.arguments.first ?? ""
            throw RuntimeError(.systemError, "Cannot check QEMU binary \(emulator): \(Errno(rawValue: errno).description)")
        }

        // Where a start spends its time, at debug level: `virtkitd --log-level debug`.
        func phase(_ name: String) {
            logger.debug("start phase", metadata: ["domain": "\(domain.name)", "phase": "\(name)",
                                                   "ms": "\((ContinuousClock.now - began) / .milliseconds(1))"])
        }
        var brokered = BrokeredChardev.plan(
            domain: runDomain, builder: QEMUCommandLineBuilder(paths: paths, mode: .start(firstFD: 3)),
            guestDirectory: paths.domainDirectory, logDirectory: layout.logDirectory, settings: consoleSettings)
        var opened: [(descriptor: FileDescriptor, planned: PlannedDescriptor)] = []
        var createdSockets: [String] = []
        // The listeners of brokered sockets' own paths, by alias, until the brokers take them.
        var servedListeners: [String: FileDescriptor] = [:]
        func undo() {
            for descriptor in servedListeners.values { try? descriptor.close() }
            servedListeners = [:]
            for entry in opened { try? entry.descriptor.close() }
            for socket in createdSockets { UnixSocket.remove(at: FilePath(socket)) }
            AtomicFile.removeTree(guestDirectory)
            unlink(layout.statusPath(domain.name).string)  // written before `cont`, gone with the rest
        }
        do {
            AtomicFile.removeTree(guestDirectory)
            try AtomicFile.makeDirectory(guestDirectory)
            if let socketGroup { try UnixSocket.shareDirectory(guestDirectory, withGroup: socketGroup) }
            // The directory is new and QEMU not yet started: no reader to hide a partial file from.
            try AtomicFile.create(randomKey(), at: guestDirectory.appending("master-key.aes"))
            for planned in invocation.descriptors {
                switch planned.purpose {
                case .listeningUnixSocket(var path):
                    // A brokered socket: QEMU listens privately, virtkitd serves the domain's path.
                    // Bound here, before QEMU runs, so a path in use fails the start at once.
                    if let record = brokered.first(where: { $0.path == path && planned.label == $0.alias + "-source" }),
                       let peer = record.peerSocket {
                        let served = try UnixSocket.listen(at: FilePath(path), mode: [.ownerReadWrite])
                        createdSockets.append(path)
                        servedListeners[record.alias] = served
                        if let socketGroup { try UnixSocket.share(FilePath(path), withGroup: socketGroup) }
                        path = peer
                    }
                    let fd = try UnixSocket.listen(at: FilePath(path), mode: [.ownerReadWrite])
                    createdSockets.append(path)
                    if let socketGroup, !path.hasSuffix("/monitor.sock") {
                        try UnixSocket.share(FilePath(path), withGroup: socketGroup)
                    }
                    opened.append((fd, planned))
                case .writableFile(let path, let append):
                    let options: FileDescriptor.OpenOptions = append ? [.create, .append] : [.create, .truncate]
                    do {
                        let fd = try FileDescriptor.open(FilePath(path), .writeOnly, options: options.union(.closeOnExec),
                                                         permissions: [.ownerReadWrite])
                        opened.append((fd, planned))
                    } catch {
                        throw HostError("cannot open file", path, (error as? Errno) ?? .ioError)
                    }
                }
            }
        } catch {
            undo()
            throw RuntimeError(.operationFailed, "cannot prepare domain '\(domain.name)': \(error)", cause: error)
        }

        // The domain log gets libvirt's header (the command line) and QEMU's stdout and stderr.
        let logPath = layout.logPath(domain.name)
        let log: FileDescriptor
        let logStart: Int64
        do {
            try AtomicFile.makeDirectory(layout.logDirectory)
            log = try FileDescriptor.open(logPath, .writeOnly, options: [.create, .append, .closeOnExec],
                                          permissions: [.ownerReadWrite])
            let header = GuestFiles.timestamp() + ": starting up\n"
                + "LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "
                + invocation.arguments.joined(separator: " ") + "\n"
            _ = try log.writeAll(Array(header.utf8))
            logStart = try log.seek(offset: 0, from: .current)
        } catch {
            undo()
            throw RuntimeError(.systemError, "cannot open log '\(logPath.string)': \(error)", cause: error)
        }
        defer { try? log.close() }

        phase("prepared")
        let pid: pid_t
        do {
            pid = try ProcessSpawner.spawn(
                executable: FilePath(emulator), arguments: invocation.arguments,
                environment: ["LC_ALL": "C", "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                              "HOME": guestDirectory.string, "XDG_DATA_HOME": guestDirectory.string,
                              "XDG_CACHE_HOME": guestDirectory.string, "XDG_CONFIG_HOME": guestDirectory.string],
                output: log,
                placements: opened.map { .init(source: $0.descriptor, target: $0.planned.number) })
        } catch {
            undo()
            throw RuntimeError(.systemError, error.description)
        }
        // QEMU holds its copies now; ours would only keep sockets alive after it exits.
        for entry in opened { try? entry.descriptor.close() }
        opened = []
        let identity = ProcessIdentity.of(pid: pid) ?? ProcessIdentity(pid: pid, startTime: 0)

        func fail(_ what: String) async -> RuntimeError {
            identity.send(signal: SIGKILL)
            _ = await ProcessExitWatcher.waitForExit(identity)
            undo()
            let stderr = GuestFiles.logTail(logPath, from: logStart)
            return RuntimeError(.operationFailed, "internal error: \(what)" + (stderr.isEmpty ? "" : ": " + stderr))
        }

        // Brokers of unix chardevs need no answer from QEMU: its private socket listens already
        // (virtkitd made it), so they connect while QEMU starts up, off the start's critical path.
        let listening = servedListeners
        servedListeners = [:]
        let early = brokered.filter { $0.peerSocket != nil }
        let earlyBrokers = Task { () throws(HostError) -> GuestBrokers in
            defer { phase("unix brokers ready") }
            return try await GuestBrokers.start(records: early, guestName: domain.name, guestDirectory: paths.domainDirectory,
                                                socketGroup: socketGroup, logger: logger, strict: true, listening: listening,
                                                linking: false)
        }
        // pty brokers get their log and client sockets now too; the pty itself once QEMU names it.
        let ptyRecords = brokered.filter { $0.peerSocket == nil }
        let brokeredPlan = brokered
        let preparedPtyBrokers = Task { () throws(HostError) -> [GuestBrokers.Entry] in
            var prepared: [(record: BrokeredChardev, broker: ChardevBroker)] = []
            do throws(HostError) {
                for record in ptyRecords {
                    prepared.append((record, try await GuestBrokers.prepareCore(record, guestName: domain.name, logger: logger)))
                }
            } catch {
                for item in prepared { await item.broker.stop() }
                throw error
            }
            defer { phase("pty consoles ready") }
            let entries = try await GuestBrokers.serve(prepared: prepared, guestDirectory: paths.domainDirectory,
                                                       socketGroup: socketGroup)
            // Every chardev's name links (`console0`, channel names, `default`): symlinks cost
            // ext4 an inode each, so they are made here, once, while QEMU initialises.
            GuestBrokers.linkNames(brokeredPlan, guestDirectory: paths.domainDirectory)
            return entries
        }
        func stopEarlyBrokers() async {
            if let brokers = try? await earlyBrokers.value { await brokers.stop() }
            for entry in (try? await preparedPtyBrokers.value) ?? [] {
                await GuestBrokers.stop(entry, guestDirectory: paths.domainDirectory)
            }
        }

        // QEMU greets early and answers only once its main loop runs (tens of ms later under
        // TCG; docs/performance.md): the negotiation is pipelined, and the monitor channels and query-chardev are
        // set going meanwhile.
        let monitorPath = paths.domainDirectory + "/monitor.sock"
        let qmp: QMP.Client
        do {
            phase("spawned")
            qmp = try await QMP.Client.connect(unixPath: monitorPath, timeout: .seconds(60), pipelined: true)
            phase("qmp greeted")
        } catch {
            // QEMU that dies at start closes the monitor before its greeting: give its stderr.
            await stopEarlyBrokers()
            throw await fail("process exited while connecting to monitor")
        }
        let chardevs = Task { () throws(QMP.Error) -> [QMP.ChardevInfo] in try await qmp.queryChardev() }
        // The definition this run started from, for a re-attach after the definition changed
        // (written while QEMU initialises).
        do {
            try AtomicFile.write(DomainFormatter.format(domain), to: guestDirectory.appending("domain.xml"), durable: false)
        } catch {
            await stopEarlyBrokers()
            await qmp.close()
            throw await fail("cannot save the live definition: \(error)")
        }
        let pending = PendingGuest()
        let descriptorRecords = invocation.descriptors.map {
            GuestStatus.DescriptorRecord(number: $0.number, label: $0.label, purpose: describe($0.purpose))
        }
        let brokeredNames = RunningGuest.brokeredChardevs(descriptorRecords, brokered)
        let monitorServer = Task { () -> Result<MonitorServer, any Error> in
            defer { phase("monitor ready") }
            do {
                return .success(try await RunningGuest.serveMonitor(
                    name: domain.name, guestDirectory: paths.domainDirectory, brokeredChardevs: brokeredNames, qmp: qmp,
                    plan: monitorPlan, fallback: nil, rules: monitorRules, logger: logger, owner: { await pending.guest() }))
            } catch {
                return .failure(error)
            }
        }
        func abandon(_ what: String) async -> RuntimeError {
            await pending.settle(nil)
            if case .success(let server) = await monitorServer.value { await server.stop() }
            await stopEarlyBrokers()
            await qmp.close()
            return await fail(what)
        }
        /// A start that failed at `error`: a closed connection means QEMU died while starting
        /// (after its greeting), as when it cannot read its kernel, and its stderr says why.
        func abandon(at error: any Error, else what: String) async -> RuntimeError {
            if case .disconnected = error as? QMP.Error { return await abandon("process exited while connecting to monitor") }
            return await abandon(what)
        }

        // Where QEMU's ptys are: it announces each on its stdout (our log) as it makes it, before
        // its monitor greets. With every pty announced, the consoles attach, the status is
        // written and `cont` is sent while QEMU still initialises, queued behind query-chardev,
        // which has the last word; QEMU then answers both back to back. Else the start waits
        // for query-chardev first.
        func queriedPtys() async throws(RuntimeError) -> [String: String] {
            var ptys: [String: String] = [:]
            do {
                for chardev in try await chardevs.value where chardev.filename.hasPrefix("pty:") {
                    ptys[String(chardev.label.dropFirst("char".count))] = String(chardev.filename.dropFirst(4))
                }
            } catch {
                throw await abandon(at: error, else: "query-chardev failed: \(error)")
            }
            phase("query-chardev")
            return ptys
        }
        let announced = GuestFiles.announcedPtys(logPath, from: logStart)
        let ptysAnnounced = brokered.allSatisfy { $0.peerSocket != nil || announced[$0.alias] != nil }
        let ptys = ptysAnnounced ? announced : try await queriedPtys()
        if ptysAnnounced { phase("ptys announced") }
        for index in brokered.indices.reversed() where brokered[index].peerSocket == nil {
            if let pty = ptys[brokered[index].alias] { brokered[index].pty = pty } else { brokered.remove(at: index) }
        }
        // The pty brokers' QEMU side, before the CPUs run.
        let brokers: GuestBrokers
        do {
            let unixBrokers = try await earlyBrokers.value
            var entries: [GuestBrokers.Entry] = []
            for entry in try await preparedPtyBrokers.value {
                guard let record = brokered.first(where: { $0.alias == entry.record.alias }) else {
                    await GuestBrokers.stop(entry, guestDirectory: paths.domainDirectory)  // QEMU named no pty
                    continue
                }
                try await GuestBrokers.attachPeer(record, to: entry.broker)
                entries.append(GuestBrokers.Entry(record: record, broker: entry.broker, listeners: entry.listeners))
            }
            brokers = unixBrokers.merging(entries)
        } catch {
            // Whichever half failed, both are stopped (stopping one twice does nothing). With
            // the ptys announced this runs before query-chardev's answer: a QEMU that died while
            // starting (its sockets refuse the brokers) is told as such, with its stderr.
            let what = "cannot serve the consoles: \(error)"
            do { _ = try await chardevs.value } catch { throw await abandon(at: error, else: what) }
            throw await abandon(what)
        }
        phase("brokers")

        // The status is written before `cont` is sent, as libvirt writes its status first, and
        // with the ptys announced `cont` goes out then, while QEMU still initialises: the
        // guest is set up while QEMU answers query-chardev and `cont`, and little is left for
        // after `cont`. Once the CPUs run, the guest's vCPU thread keeps one of a small host's
        // CPUs busy, and a woken virtkitd thread could wait a scheduler tick behind it while the
        // other CPU idled (perf sched; docs/performance.md). The status says `paused` as asked; a re-attach asks
        // QEMU anyway. The guest's events are subscribed to first, so none after `cont` is missed.
        let events = qmp.events()
        var status = GuestStatus(
            name: domain.name, uuid: domain.uuid, id: id, process: identity, emulator: emulator,
            accelerator: runDomain.virtType == .kvm ? "kvm" : "tcg", monitorPath: monitorPath,
            guestDirectory: guestDirectory.string,
            createdSockets: createdSockets,
            descriptors: descriptorRecords,
            ptys: ptys, channels: [:], paused: paused, stopping: nil, startedAt: Date())
        status.brokered = brokered
        // The monitor channels were set up while QEMU initialised: the status records their
        // ports in its one write.
        let monitor = await monitorServer.value
        if case .success(let server) = monitor {
            status.monitorPorts = server.tcpPorts.map { GuestStatus.MonitorPorts(monitor: $0.monitor, command: $0.command) }
            status.monitorTCPDisabledReason = server.tcpDisabledReason
        }
        do {
            try AtomicFile.makeDirectory(layout.statusDirectory)
            try status.write(to: layout.statusPath(domain.name))
        } catch {
            throw await abandon("cannot write status: \(error)")
        }
        phase("status")
        let resumed = paused || !ptysAnnounced ? nil : PendingReply("cont", on: qmp, timeout: .seconds(10))
        if ptysAnnounced {
            // query-chardev confirms what QEMU announced.
            let queried = try await queriedPtys()
            let attached = brokered.compactMap { record in record.pty.map { (record.alias, $0) } }
            if let (alias, pty) = attached.first(where: { queried[$0.0] != $0.1 }) {
                throw await abandon("QEMU announced pty \(pty) for chardev '\(alias)', query-chardev gives \(queried[alias] ?? "none")")
            }
            if queried != ptys {  // a pty no console serves, unannounced: the status gets it
                status.ptys = queried
                try? status.write(to: layout.statusPath(domain.name))
            }
        }
        let guest = RunningGuest(domain: domain, status: status, qmp: qmp, layout: layout, logger: logger, onExit: onExit)
        await guest.adopt(brokers)
        await guest.watch(events: events)
        await pending.settle(guest)
        phase("guest")
        switch monitor {
        case .success(let server): await guest.adoptMonitor(server, recorded: true)
        case .failure(let error): await guest.monitorFailed(error)
        }
        phase("monitor")
        GuestFiles.linkByName(layout: layout, name: domain.name, guestDirectory: guestDirectory)
        if !paused {
            let reply = await (resumed ?? PendingReply("cont", on: qmp, timeout: .seconds(10))).value
            if case .failure(let error) = reply {
                await guest.destroy()
                throw RuntimeError(.operationFailed, "cannot start CPUs of domain '\(domain.name)': \(error)", cause: error)
            }
            phase("cont")
        }
        return guest
    }

    func describe(_ purpose: PlannedDescriptor.Purpose) -> String {
        switch purpose {
        case .listeningUnixSocket(let path): return "listening UNIX socket " + path
        case .writableFile(let path, let append): return (append ? "file (append) " : "file ") + path
        }
    }

    /// 32 random bytes for QEMU's master key (libvirt's size), four draws of the system generator.
    func randomKey() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var key: [UInt8] = []
        key.reserveCapacity(32)
        for _ in 0..<4 { withUnsafeBytes(of: generator.next() as UInt64) { key.append(contentsOf: $0) } }
        return key
    }
}

/// Which accelerator QEMU runs a `type='kvm'` domain with.
public enum Accelerator: String, Sendable, Codable {
    case kvm, tcg
}
