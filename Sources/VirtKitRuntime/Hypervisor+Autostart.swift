import SystemPackage
import VirtKitDomain
import VirtKitHost
import VirtKitModel
#if canImport(Glibc)
import Glibc
#endif

/// `virsh autostart`: which persistent domains start when the host boots. Each mark is an empty
/// file named after the domain in the state directory's `autostart/`, as libvirt keeps a link
/// per domain; undefining a domain removes its mark.
extension Hypervisor {
    /// Marks or unmarks `name`; a transient domain cannot be marked (libvirt's rule: it has no
    /// definition to start from).
    public func setAutostart(name: String, enabled: Bool) throws(RuntimeError) -> DomainSummary {
        let record = try lookup(name)
        guard record.persistent else {
            throw RuntimeError(.operationInvalid, "Requested operation is not valid: cannot set autostart for transient domain")
        }
        let path = layout.autostartPath(name)
        if enabled {
            do {
                try AtomicFile.write([], to: path)
            } catch {
                throw RuntimeError(.systemError, "Failed to mark domain '\(name)' for autostart: \(error.description)")
            }
        } else if unlink(path.string) != 0 && errno != ENOENT {
            throw RuntimeError(.systemError, "Failed to unmark domain '\(name)' for autostart: \(path.string): \(Errno(rawValue: errno))")
        }
        records[name]?.autostart = enabled
        return summary(name)
    }

    /// The names of the domains marked to start with the host.
    public func autostartNames() -> Set<String> {
        Set(records.filter { $0.value.autostart }.keys)
    }

    /// Reads the marks at start-up; a mark whose domain has no definition any more is removed.
    func loadAutostartMarks() {
        for entry in Self.list(layout.autostartDirectory) {
            if records[entry]?.persistent == true {
                records[entry]?.autostart = true
            } else {
                logger.info("removing the autostart mark of a domain that is not defined", metadata: ["domain": "\(entry)"])
                unlink(layout.autostartPath(entry).string)
            }
        }
    }
}

// MARK: - Starting with the host

extension Hypervisor {
    /// What a start with the host did.
    public struct AutostartReport: Sendable {
        /// Started, in the order their starts finished.
        public var started: [String]
        public var failed: [(name: String, reason: String)]
    }

    /// The marked domains that are shut off, as a plan; domains that run already are left alone.
    func autostartPlan() -> OrderPlan {
        var guests: [OrderPlan.Guest] = []
        var running: Set<String> = []
        for (name, record) in records {
            if case .shutoff = record.lifecycle {} else { running.insert(name); continue }
            guard record.autostart else { continue }
            guests.append(.init(name: name, settings: (try? record.domain.virtkitAutostart) ?? VirtKitAutostartSettings()))
        }
        return OrderPlan.starting(guests, running: running)
    }

    /// Starts the marked domains as the host comes up: in the plan's order, at most
    /// `settings.parallelStart` at once, `startDelaySeconds` apart, each after its own delay;
    /// a start that fails is reported and the others go on.
    nonisolated public func startMarkedDomains(_ settings: HostSettings) async -> AutostartReport {
        var plan = await autostartPlan()
        var report = AutostartReport(started: [], failed: [])
        logger.info("autostart: starting marked domains", metadata: ["parallel": "\(settings.parallelStart)"])
        await withTaskGroup(of: (String, String?).self) { group in
            var running = 0
            var lastLaunch: ContinuousClock.Instant?
            while true {
                for entry in plan.next(slots: settings.parallelStart - running) {
                    if let lastLaunch, settings.startDelaySeconds > 0 {
                        try? await Task.sleep(until: lastLaunch + .seconds(settings.startDelaySeconds))
                    }
                    lastLaunch = .now
                    running += 1
                    group.addTask { await self.autostart(entry) }
                }
                guard running > 0 else {
                    if !plan.isDone { plan.abandonRest() }
                    break
                }
                guard let (name, error) = await group.next() else { break }
                running -= 1
                plan.finished(name, error: error)
                if let error {
                    logger.error("autostart: \(name) did not start: \(error)")
                } else {
                    report.started.append(name)
                }
            }
        }
        report.failed = plan.failed
        let notStarted = report.failed.map { "\($0.name) (\($0.reason))" }.joined(separator: "; ")
        logger.info("autostart: \(report.started.count) started: \(report.started.joined(separator: ", ")); \(report.failed.count) not started\(notStarted.isEmpty ? "" : ": " + notStarted)")
        return report
    }

    /// One domain's start: its delay, then the start; nil error when it runs.
    nonisolated func autostart(_ entry: OrderPlan.Entry) async -> (String, String?) {
        if entry.delaySeconds > 0 { try? await Task.sleep(for: .seconds(entry.delaySeconds)) }
        logger.info("autostart: starting \(entry.name)")
        do {
            _ = try await start(name: entry.name, paused: false)
            return (entry.name, nil)
        } catch {
            return (entry.name, error.message)
        }
    }
}
