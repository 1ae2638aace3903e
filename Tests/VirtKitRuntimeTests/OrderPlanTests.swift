import Testing
import VirtKitDomain
@testable import VirtKitRuntime

/// The order of starts with the host, without QEMU.
struct OrderPlanTests {
    static func entry(_ name: String, order: Int = 0, after: String? = nil) -> OrderPlan.Guest {
        .init(name: name, settings: VirtKitAutostartSettings(order: order, after: after))
    }

    @Test func orderThenNameAtMostSlotsAtOnce() {
        var plan = OrderPlan.starting([Self.entry("c", order: 1), Self.entry("b", order: 2), Self.entry("a", order: 1)], running: [])
        #expect(plan.next(slots: 2).map(\.name) == ["a", "c"])
        #expect(plan.next(slots: 0).isEmpty)
        plan.finished("a", error: nil)
        #expect(plan.next(slots: 1).map(\.name) == ["b"])
        #expect(plan.isDone)
    }

    @Test func afterWaitsForItsDomainAndFailsWithIt() {
        var plan = OrderPlan.starting([Self.entry("web", after: "db"), Self.entry("db", order: 5), Self.entry("cache", after: "web"),
                                  Self.entry("solo", order: 9)], running: [])
        // web sorts first but waits for db; solo does not wait.
        #expect(plan.next(slots: 4).map(\.name) == ["db", "solo"])
        plan.finished("db", error: "boom")
        #expect(plan.isDone)
        #expect(plan.failed.map(\.name) == ["db", "web", "cache"])
        #expect(plan.failed[1].reason == "not started: 'db', which it starts after, did not start")
    }

    @Test func afterOnARunningOrUnplannedDomainIsMet() {
        var plan = OrderPlan.starting([Self.entry("web", after: "db"), Self.entry("app", after: "nowhere")], running: ["db"])
        #expect(plan.next(slots: 4).map(\.name) == ["app", "web"])
    }

    @Test func cyclesFailAndSoDoTheirDependents() {
        var plan = OrderPlan.starting([Self.entry("a", after: "b"), Self.entry("b", after: "a"), Self.entry("c", after: "a"),
                                  Self.entry("d")], running: [])
        #expect(Set(plan.failed.map(\.name)) == ["a", "b", "c"])
        #expect(plan.next(slots: 4).map(\.name) == ["d"])
        plan.finished("d", error: nil)
        #expect(plan.isDone)
    }

    @Test func stopsGoInReverseAndBeforeTheirAfter() {
        var plan = OrderPlan.stopping([Self.entry("db", order: 1), Self.entry("web", order: 2, after: "db"),
                                       Self.entry("cache", order: 2), Self.entry("solo")])
        // Reverse order: web and cache (order 2) first, by name descending; db waits for web.
        #expect(plan.next(slots: 4).map(\.name) == ["web", "cache", "solo"])
        plan.finished("web", error: "still running at the deadline")
        // A guest that did not stop holds nobody back.
        #expect(plan.next(slots: 4).map(\.name) == ["db"])
        #expect(plan.isDone)
    }

    @Test func hostSettingsAreChecked() throws {
        #expect(try HostSettings.parse("parallel_start = 3\nstart_delay = 2 # seconds\n", file: "host.conf")
                == HostSettings(parallelStart: 3, startDelaySeconds: 2))
        #expect(throws: RuntimeError(.configUnsupported, "host.conf:1: parallel_start must be a count from 1 to 256, got '0'")) {
            try HostSettings.parse("parallel_start = 0", file: "host.conf")
        }
        #expect(throws: RuntimeError.self) { try HostSettings.parse("parallel = 2", file: "host.conf") }
    }
}
