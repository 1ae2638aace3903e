import VirtKitModel
#if canImport(Glibc)
import Glibc
#endif
import VirtKitDomain

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
            let guest = try await launcher.launch(domain: record.domain, id: id, paused: paused, accelerator: accelerator,
                                                  monitorPlan: plan, began: began, onExit: exitHandler(name: name, id: id))
            setLifecycle(name, .running(guest))
        } catch {
            setLifecycle(name, .shutoff(.failed))
            throw error
        }
        logger.info("started \(name)", metadata: ["id": "\(id)", "accelerator": "\(accelerator.rawValue)",
                                                 "ms": "\((ContinuousClock.now - began) / .milliseconds(1))"])
        logger.debug("start answered", metadata: ["domain": "\(name)", "epoch-us": "\(Self.epochMicroseconds())"])
        return summary(name)
    }

    /// `virsh shutdown`: ACPI power button (or the guest agent), then the rest of the stop
    /// ladder after the timeout. With `wait` false it answers once the request is sent and the
    /// ladder goes on in the daemon.
    public func shutdown(name: String, options: ShutdownOptions) async throws(RuntimeError) -> DomainSummary {
        let guest = try running(name)
        if options.mode == .agent {
            try await guest.agentShutdown()
        } else {
            await guest.pressPowerButton()
        }
        let timeout = Duration.milliseconds(Int64(max(options.timeoutSeconds, 0) * 1000))
        if options.wait {
            await guest.finishShutdown(timeout: timeout)
            _ = await guest.waitForExit(timeout: nil)
        } else {
            // Unstructured on purpose: the ladder must go on after this request has been answered.
            Task { await guest.finishShutdown(timeout: timeout) }
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

    public func reboot(name: String) async throws(RuntimeError) -> DomainSummary {
        try await running(name).reboot()
        return summary(name)
    }

    public func suspend(name: String) async throws(RuntimeError) -> DomainSummary {
        try await running(name).suspend()
        return summary(name)
    }

    public func resume(name: String) async throws(RuntimeError) -> DomainSummary {
        try await running(name).resume()
        return summary(name)
    }

    func running(_ name: String) throws(RuntimeError) -> RunningGuest {
        let record = try lookup(name)
        guard case .running(let guest) = record.lifecycle else {
            throw RuntimeError(.operationInvalid, "Requested operation is not valid: domain is not running")
        }
        return guest
    }

    /// Wall-clock microseconds, for debug lines that line up with a client's own timestamps.
    static func epochMicroseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000
    }
}
