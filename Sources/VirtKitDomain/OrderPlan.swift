/// The order in which guests start with the host, or stop with it: by their autostart `order`
/// (lower first), then by name, and a guest waits for the guests it depends on. Pure: the
/// runtime runs a start plan, the CLI's `shutdown --all` a stop plan.
///
/// A plan hands out the next guests that may go (``next(slots:)``) and learns how each one
/// ended (``finished(_:error:)``). In a start plan a guest waits for its `after` domain, and
/// one whose `after` failed does not start; a stop plan is the reverse (a guest stops before
/// the domain it started after), and a guest that does not stop holds nobody back.
public struct OrderPlan: Sendable {
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var order: Int
        public var delaySeconds: Int
        /// The guests this one waits for.
        public var waitsFor: Set<String>
        public init(name: String, order: Int, delaySeconds: Int, waitsFor: Set<String>) {
            self.name = name
            self.order = order
            self.delaySeconds = delaySeconds
            self.waitsFor = waitsFor
        }
    }

    /// One guest as its settings describe it.
    public struct Guest: Sendable, Equatable {
        public var name: String
        public var settings: VirtKitAutostartSettings
        public init(name: String, settings: VirtKitAutostartSettings) {
            self.name = name
            self.settings = settings
        }
    }

    /// Not yet handed out, in order.
    public private(set) var waiting: [Entry]
    /// Guests outside the plan that count as done already (running, for a start).
    let alreadyDone: Set<String>
    private(set) var done: Set<String> = []
    /// Whether a guest that fails fails those waiting for it.
    let failurePropagates: Bool
    /// Guests that did not go, with why.
    public private(set) var failed: [(name: String, reason: String)] = []

    /// Starting `guests`: by order then name, each after its `after` (one that is neither
    /// planned nor in `running` is not waited for: it could never be met).
    public static func starting(_ guests: [Guest], running: Set<String>) -> OrderPlan {
        let planned = Set(guests.map(\.name))
        let entries = guests.map { guest in
            Entry(name: guest.name, order: guest.settings.order, delaySeconds: guest.settings.delaySeconds,
                  waitsFor: Set([guest.settings.after].compactMap { $0 }.filter { planned.contains($0) }))
        }
        return OrderPlan(entries.sorted { ($0.order, $0.name) < ($1.order, $1.name) }, alreadyDone: running, failurePropagates: true)
    }

    /// Stopping `guests`: the reverse of their start order, each before the domain it starts
    /// after (so that domain waits for it).
    public static func stopping(_ guests: [Guest]) -> OrderPlan {
        let planned = Set(guests.map(\.name))
        let entries = guests.map { guest in
            Entry(name: guest.name, order: guest.settings.order, delaySeconds: 0,
                  waitsFor: Set(guests.filter { $0.settings.after == guest.name && planned.contains($0.name) }.map(\.name)))
        }
        return OrderPlan(entries.sorted { ($0.order, $0.name) > ($1.order, $1.name) }, alreadyDone: [], failurePropagates: false)
    }

    init(_ entries: [Entry], alreadyDone: Set<String>, failurePropagates: Bool) {
        waiting = entries
        self.alreadyDone = alreadyDone
        self.failurePropagates = failurePropagates
        failCycles()
    }

    public var isDone: Bool { waiting.isEmpty }

    /// The guests that may go now, in order, at most `slots` of them.
    public mutating func next(slots: Int) -> [Entry] {
        var ready: [Entry] = []
        for entry in waiting where ready.count < slots && entry.waitsFor.isSubset(of: done.union(alreadyDone)) {
            ready.append(entry)
        }
        waiting.removeAll { entry in ready.contains { $0.name == entry.name } }
        return ready
    }

    /// Records how `name` ended (nil: it went); in a start plan, those waiting for a failed
    /// guest fail in turn.
    public mutating func finished(_ name: String, error: String?) {
        guard let error else {
            done.insert(name)
            return
        }
        failed.append((name, error))
        guard failurePropagates else {
            done.insert(name)
            return
        }
        var blocked = [name]
        while let cause = blocked.popLast() {
            for entry in waiting where entry.waitsFor.contains(cause) {
                failed.append((entry.name, "not started: '\(cause)', which it starts after, did not start"))
                blocked.append(entry.name)
            }
            waiting.removeAll { $0.waitsFor.contains(cause) }
        }
    }

    /// Everything still waiting, failed: what is left when nothing runs and nothing can go.
    public mutating func abandonRest() {
        for entry in waiting {
            failed.append((entry.name, "not started: '\(entry.waitsFor.sorted().joined(separator: "', '"))', which it starts after, never ran"))
        }
        waiting.removeAll()
    }

    /// Guests whose waits loop back to themselves can never go: they fail now (with what waits
    /// for them, in a start plan), or, in a stop plan, go without waiting.
    private mutating func failCycles() {
        let waits = Dictionary(waiting.map { ($0.name, $0.waitsFor) }, uniquingKeysWith: { first, _ in first })
        func reaches(_ start: String, _ target: String) -> Bool {
            var seen: Set<String> = []
            var stack = Array(waits[start] ?? [])
            while let next = stack.popLast() {
                if next == target { return true }
                if seen.insert(next).inserted { stack += waits[next] ?? [] }
            }
            return false
        }
        let inCycle = Set(waiting.map(\.name).filter { reaches($0, $0) })
        guard !inCycle.isEmpty else { return }
        if !failurePropagates {
            for i in waiting.indices where inCycle.contains(waiting[i].name) { waiting[i].waitsFor = [] }
            return
        }
        let cycle = waiting.map(\.name).filter { inCycle.contains($0) }
        waiting.removeAll { inCycle.contains($0.name) }
        for name in cycle { finished(name, error: "not started: its 'after' settings form a cycle") }
    }
}
