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

/// The guest's life: QMP events, the stop ladder, reboot, suspend and resume, and what happens
/// when QEMU exits.
extension RunningGuest {
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

    func handle(_ event: QMP.Event) async {
        switch event.kind {
        case .stop:
            await setPaused(true)
        case .resume:
            await setPaused(false)
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
        case .reset:
            await noticeObserver?(.reset)
        case .vserportChange:
            guard let alias = event.data["id"]?.string, let open = event.data["open"]?.bool,
                  let name = channelName(alias: alias) else { return }
            let changed = snapshot.channels[name] != open
            update { $0.channels[name] = open }
            if changed && name == Self.agentChannel { await noticeObserver?(.agent(connected: open)) }
        case .guestPanicked:
            logger.warning("guest panicked", metadata: ["domain": "\(domain.name)"])
        default:
            break
        }
    }

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

    /// Records that a shutdown is under way, with the moment the ladder takes over, before the
    /// guest is asked: a daemon killed in the middle goes on with it after its restart.
    /// False when a stop was already under way (a destroy stays a destroy).
    @discardableResult
    func beginShutdown(deadline: Date) -> Bool {
        guard snapshot.stopping == nil else { return false }
        update {
            $0.stopping = .shutdown
            $0.stopDeadline = deadline.timeIntervalSince1970
        }
        return true
    }

    /// The shutdown that ``beginShutdown(deadline:)`` recorded did not happen (the agent refused).
    func cancelShutdown() {
        update {
            $0.stopping = nil
            $0.stopDeadline = nil
        }
    }

    /// Goes on with a stop that a killed daemon left under way: a destroy at once, a shutdown
    /// after what is left of its timeout (at once without one: the guest had powered off).
    func resumeStop() async {
        let status = snapshot
        switch status.stopping {
        case .destroy?:
            await destroy()
        case .shutdown?:
            let left = status.stopDeadline.map { max(0, $0 - Date().timeIntervalSince1970) } ?? 0
            await finishShutdown(timeout: .milliseconds(Int64(left * 1000)))
        case nil:
            break
        }
    }

    /// Waits `timeout` for the guest to power off, then goes down the rest of the ladder, or,
    /// with `leave`, leaves it running.
    public func finishShutdown(timeout: Duration, leave: Bool = false) async {
        if await exited.wait(timeout: timeout) { return }
        if leave {
            logger.info("guest did not power off within \(timeout): left running", metadata: ["domain": "\(domain.name)"])
            await cancelShutdown()
            return
        }
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

    /// `virsh reset`: the reset button (QMP `system_reset`); the guest is not asked.
    public func reset() async throws(RuntimeError) {
        do { try await qmp.systemReset(timeout: .seconds(10)) } catch {
            throw RuntimeError(.operationFailed, "cannot reset domain '\(domain.name)': \(error)", cause: error)
        }
    }

    public func suspend() async throws(RuntimeError) {
        do { try await qmp.stop(timeout: .seconds(10)) } catch {
            throw RuntimeError(.operationFailed, "cannot suspend domain '\(domain.name)': \(error)", cause: error)
        }
        await setPaused(true)
    }

    public func resume() async throws(RuntimeError) {
        do { try await qmp.cont(timeout: .seconds(10)) } catch {
            throw RuntimeError(.operationFailed, "cannot resume domain '\(domain.name)': \(error)", cause: error)
        }
        await setPaused(false)
    }

    /// Records whether the CPUs run; a change (and only a change: QMP's STOP follows the API's
    /// own `stop`) goes to the pause observer.
    func setPaused(_ paused: Bool) async {
        guard snapshot.paused != paused else { return }
        update { $0.paused = paused }
        await noticeObserver?(.paused(paused))
    }

    /// What ``noticeObserver`` hears.
    enum Notice: Sendable {
        case paused(Bool)
        case reset
        case agent(connected: Bool)
    }

    /// Sets who hears the guest's notices (``noticeObserver``).
    func observe(_ observer: @escaping @Sendable (Notice) async -> Void) {
        noticeObserver = observer
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
}
