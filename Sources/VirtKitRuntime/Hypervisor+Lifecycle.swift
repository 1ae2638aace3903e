import Foundation
import Logging
import SystemPackage
import VirtKitDomain
import VirtKitHost
import VirtKitModel
import VirtKitMonitor
import VirtKitQMP
#if canImport(Glibc)
import Glibc
#endif

extension Hypervisor {
    /// `virsh start [--paused]`.
    public func start(name: String, paused: Bool) async throws(RuntimeError) -> DomainSummary {
        let began = ContinuousClock.now
        logger.debug("start requested", metadata: ["domain": "\(name)", "epoch-us": "\(Self.epochMicroseconds())"])
        let record = try lookup(name)
        switch record.lifecycle {
        case .running, .starting:
            throw RuntimeError(.operationInvalid, "Requested operation is not valid: domain is already running")
        case .shutoff:
            break
        }
        let plan = try monitorPlan(for: record.domain)
        let id = nextID
        nextID += 1
        setLifecycle(name, .starting)
        let accelerator = record.domain.virtType == .kvm ? await accelerators.kvmAccelerator() : .tcg
        do {
            let domain = try await pluggedIntoNetworks(record.domain)
            let guest = try await launcher.launch(domain: domain, id: id, paused: paused, accelerator: accelerator,
                                                  monitorPlan: plan, began: began, onExit: exitHandler(name: name, id: id))
            setLifecycle(name, .running(guest))
            publish(.started, summary(name))
            if paused { publish(.suspended, summary(name)) }
            await guest.observe(noticeHandler(name: name, id: id))
        } catch {
            setLifecycle(name, .shutoff(.failed))
            throw error
        }
        logger.info("started \(name)", metadata: ["id": "\(id)", "accelerator": "\(accelerator.rawValue)",
                                                 "ms": "\((ContinuousClock.now - began) / .milliseconds(1))"])
        logger.debug("start answered", metadata: ["domain": "\(name)", "epoch-us": "\(Self.epochMicroseconds())"])
        return summary(name)
    }

    /// `domain` with each `network` interface's bridge filled in from its network, which must
    /// be active (libvirt: "network 'default' is not active").
    func pluggedIntoNetworks(_ domain: Domain) async throws(RuntimeError) -> Domain {
        var domain = domain
        for i in domain.devices.interfaces.indices {
            guard let name = domain.devices.interfaces[i].sourceNetwork else { continue }
            domain.devices.interfaces[i].sourceBridge = try await networks.bridge(for: name)
        }
        return domain
    }

    /// `virsh shutdown`: ACPI power button (or the guest agent), then the rest of the stop
    /// ladder after the timeout. With `wait` false it answers once the request is sent and the
    /// ladder goes on in the daemon.
    public func shutdown(name: String, options: ShutdownOptions) async throws(RuntimeError) -> DomainSummary {
        let guest = try running(name)
        let timeout = Duration.milliseconds(Int64(max(options.timeoutSeconds, 0) * 1000))
        let marked = await guest.beginShutdown(deadline: Date(timeIntervalSinceNow: max(options.timeoutSeconds, 0)))
        if options.mode == .agent {
            do {
                try await guest.agentShutdown()
            } catch {
                if marked { await guest.cancelShutdown() }
                throw error
            }
        } else {
            await guest.pressPowerButton()
        }
        let leave = options.onTimeout == .leave
        if options.wait {
            await guest.finishShutdown(timeout: timeout, leave: leave)
            if !leave { _ = await guest.waitForExit(timeout: nil) }
        } else {
            // Unstructured on purpose: the ladder must go on after this request has been answered.
            Task { await guest.finishShutdown(timeout: timeout, leave: leave) }
        }
        return summary(name)
    }

    /// `virsh destroy`: quit, SIGTERM, SIGKILL; returns once QEMU is gone and cleaned up.
    public func destroy(name: String) async throws(RuntimeError) -> DomainSummary {
        let guest = try running(name)
        await guest.destroy()
        _ = await guest.waitForExit(timeout: .seconds(30))
        return summary(name)
    }

    /// `virsh reboot [--mode acpi|agent]`: the power button, then a reset instead of the stop
    /// (libvirt's default for QEMU), or the guest agent's reboot.
    public func reboot(name: String, mode: ShutdownOptions.Mode = .acpi) async throws(RuntimeError) -> DomainSummary {
        let guest = try running(name)
        switch mode {
        case .acpi: try await guest.reboot()
        case .agent: try await guest.agentReboot()
        }
        return summary(name)
    }

    public func reset(name: String) async throws(RuntimeError) -> DomainSummary {
        try await running(name).reset()
        return summary(name)
    }

    public func suspend(name: String) async throws(RuntimeError) -> DomainSummary {
        try await running(name).suspend()
        return summary(name)
    }

    /// `domif-setlink`.
    public func setLink(name: String, interface: String, up: Bool) async throws(RuntimeError) -> DomainSummary {
        try await running(name).setLink(interface, up: up)
        return summary(name)
    }

    public func resume(name: String) async throws(RuntimeError) -> DomainSummary {
        try await running(name).resume()
        return summary(name)
    }

    /// Publishes a running guest's pauses and resumes, whoever made them.
    nonisolated func noticeHandler(name: String, id: Int) -> @Sendable (RunningGuest.Notice) async -> Void {
        { [weak self] notice in await self?.guestNoticed(name: name, id: id, notice) }
    }

    /// A guest's notice as a domain event, if the guest is still the one running under `name`.
    private func guestNoticed(name: String, id: Int, _ notice: RunningGuest.Notice) {
        guard let record = records[name], case .running(let guest) = record.lifecycle, guest.id == id else { return }
        switch notice {
        case .paused(let paused): publish(paused ? .suspended : .resumed, summary(name))
        case .reset: publish(.rebooted, summary(name))
        case .agent(let connected): publish(.agent(connected: connected), summary(name))
        }
    }

    /// Wall-clock microseconds, for debug lines that line up with a client's own timestamps.
    static func epochMicroseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000
    }

    // MARK: - Start-up and re-attach

    /// Loads every saved definition and re-attaches to every guest still running; the status of
    /// guests that are gone is cleaned up and they are marked shut off.
    public func load() async throws(RuntimeError) {
        do {
            for directory in [layout.stateDirectory, layout.definitionsDirectory, layout.autostartDirectory, layout.runDirectory,
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
        loadAutostartMarks()
        // The networks first: a guest re-attached below is plugged into one.
        await networks.load()
        let unfinished = await settleInterruptedStarts()
        for file in Self.list(layout.statusDirectory) where file.hasSuffix(".json") {
            guard let status = GuestStatus.read(from: layout.statusDirectory.appending(file)) else { continue }
            await reattach(status)
        }
        await finishStarts(unfinished)
        sweepStaleFiles()
    }

    /// What no guest owns any more after a crash: run directories of guests that are gone,
    /// `by-name` links to them, and the temporary files of writes that a kill interrupted.
    private func sweepStaleFiles() {
        var live = Set<String>()
        for record in records.values {
            if case .running(let guest) = record.lifecycle { live.insert(guest.snapshot.guestDirectory) }
        }
        for entry in Self.list(layout.guestsDirectory) {
            let path = layout.guestsDirectory.appending(entry)
            guard !live.contains(path.string) else { continue }
            logger.info("removing a stale run directory", metadata: ["path": "\(path.string)"])
            try? DescriptorHolder.installed?.drop(prefix: path.string + "/")
            AtomicFile.removeTree(path)
        }
        for entry in Self.list(layout.byNameDirectory) {
            let link = layout.byNameDirectory.appending(entry)
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: link.string), !live.contains(target) {
                unlink(link.string)
            }
        }
        for directory in [layout.definitionsDirectory, layout.statusDirectory] {
            for entry in Self.list(directory) where entry.contains(".tmp-") {
                unlink(directory.appending(entry).string)
            }
        }
    }

    /// The starts a killed daemon left (their ``StartIntent`` records): one that wrote its status
    /// is re-attached like any guest and finished after (returned); one that did not has its
    /// QEMU stopped and its files removed, and its domain is shut off (failed).
    private func settleInterruptedStarts() async -> [StartIntent] {
        var unfinished: [StartIntent] = []
        for file in Self.list(layout.statusDirectory) where file.hasSuffix(".start") {
            let path = layout.statusDirectory.appending(file)
            guard let intent = StartIntent.read(from: path) else {
                unlink(path.string)
                continue
            }
            nextID = max(nextID, intent.id + 1)
            if let status = GuestStatus.read(from: layout.statusPath(intent.name)), status.id == intent.id {
                unfinished.append(intent)
                continue
            }
            logger.warning("the start of \(intent.name) was interrupted: stopping its QEMU and removing its files",
                           metadata: ["pid": "\(intent.process.map { "\($0.pid)" } ?? "not recorded")"])
            await intent.undo(layout: layout)
            records[intent.name]?.lifecycle = .shutoff(.failed)
        }
        return unfinished
    }

    /// The `cont` each interrupted start still owed its guest, now re-attached.
    private func finishStarts(_ unfinished: [StartIntent]) async {
        for intent in unfinished {
            unlink(layout.startIntentPath(intent.name).string)
            guard !intent.paused, case .running(let guest)? = records[intent.name]?.lifecycle, guest.id == intent.id,
                  guest.snapshot.paused else { continue }
            do {
                try await guest.resume()
                logger.info("finished the interrupted start of \(intent.name)")
            } catch {
                logger.error("cannot finish the interrupted start of \(intent.name): \(error)")
            }
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
            await guest.observe(noticeHandler(name: status.name, id: status.id))
            logger.info("re-attached to \(status.name)", metadata: ["pid": "\(status.process.pid)", "id": "\(status.id)"])
            if let stopping = status.stopping {
                logger.info("going on with the \(stopping.rawValue) of \(status.name)")
                // Unstructured on purpose: the ladder goes on while the daemon serves.
                Task { await guest.resumeStop() }
            }
        } catch {
            logger.error("cannot re-attach to \(status.name): \(error); leaving it running")
        }
    }

    nonisolated func exitHandler(name: String, id: Int) -> @Sendable (DomainStateReason) async -> Void {
        { [weak self] reason in await self?.guestExited(name: name, id: id, reason: reason) }
    }

    private func guestExited(name: String, id: Int, reason: DomainStateReason) {
        guard let record = records[name], case .running(let guest) = record.lifecycle, guest.id == id else { return }
        let stopped = summary(name)
        if record.persistent {
            records[name]?.lifecycle = .shutoff(reason)
        } else {
            records[name] = nil
        }
        publish(.stopped(reason), stopped)
        logger.info("domain \(name) stopped", metadata: ["reason": "\(reason.rawValue)"])
    }
}
