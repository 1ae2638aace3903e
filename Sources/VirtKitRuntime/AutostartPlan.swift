/// The order in which the domains marked for autostart start with the host: by their `order`,
/// then by name; a domain with `after` waits for that domain. Pure: ``Hypervisor`` runs it.
///
/// A plan hands out the next domains that may start (``next(running:)``) and learns how each
/// start ended (``finished(_:started:)``): a domain whose `after` domain failed, or that is
/// part of a cycle of `after`s, does not start and is reported with the reason.
public struct AutostartPlan: Sendable {
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var order: Int
        public var delaySeconds: Int
        public var after: String?
        public init(name: String, order: Int, delaySeconds: Int, after: String?) {
            self.name = name
            self.order = order
            self.delaySeconds = delaySeconds
            self.after = after
        }
    }

    /// Not yet handed out, in start order.
    private(set) var waiting: [Entry]
    /// Domains outside the plan that are already running (an `after` on them is met).
    let alreadyRunning: Set<String>
    private(set) var started: Set<String> = []
    /// Domains that did not start, with why.
    public private(set) var failed: [(name: String, reason: String)] = []

    public init(_ entries: [Entry], alreadyRunning: Set<String>) {
        waiting = entries.sorted { ($0.order, $0.name) < ($1.order, $1.name) }
        self.alreadyRunning = alreadyRunning
        let planned = Set(entries.map(\.name))
        // An `after` that names no planned and no running domain cannot be met later either:
        // it is dropped (and said in the log by the runner), so the domain still starts.
        for i in waiting.indices {
            if let after = waiting[i].after, !planned.contains(after) { waiting[i].after = nil }
        }
        failCycles()
    }

    public var isDone: Bool { waiting.isEmpty }

    /// The domains that may start now, in order, at most `slots` of them.
    public mutating func next(slots: Int) -> [Entry] {
        var ready: [Entry] = []
        for entry in waiting where ready.count < slots {
            if let after = entry.after, !started.contains(after) && !alreadyRunning.contains(after) { continue }
            ready.append(entry)
        }
        waiting.removeAll { entry in ready.contains { $0.name == entry.name } }
        return ready
    }

    /// Records how `name`'s start ended; those waiting on a failed domain fail in turn.
    public mutating func finished(_ name: String, error: String?) {
        guard let error else {
            started.insert(name)
            return
        }
        failed.append((name, error))
        var blocked = [name]
        while let cause = blocked.popLast() {
            for entry in waiting where entry.after == cause {
                failed.append((entry.name, "not started: '\(cause)', which it starts after, did not start"))
                blocked.append(entry.name)
            }
            waiting.removeAll { $0.after == cause }
        }
    }

    /// Domains whose `after`s loop back to themselves can never start: they fail now.
    private mutating func failCycles() {
        let afters = Dictionary(waiting.map { ($0.name, $0.after) }, uniquingKeysWith: { first, _ in first })
        var inCycle: Set<String> = []
        for entry in waiting {
            var seen: [String] = [entry.name]
            var current = entry.after
            while let next = current, !seen.contains(next), let following = afters[next] {
                seen.append(next)
                current = following
            }
            if current == entry.name { inCycle.insert(entry.name) }
        }
        let cycle = waiting.map(\.name).filter { inCycle.contains($0) }
        waiting.removeAll { inCycle.contains($0.name) }
        for name in cycle { finished(name, error: "not started: its 'after' settings form a cycle") }
    }

    /// Everything still waiting, failed: what is left when nothing runs and nothing can start.
    public mutating func abandonRest() {
        for entry in waiting { failed.append((entry.name, "not started: '\(entry.after ?? "")', which it starts after, never ran")) }
        waiting.removeAll()
    }
}
