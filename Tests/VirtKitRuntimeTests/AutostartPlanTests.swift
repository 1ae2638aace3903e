import Testing
@testable import VirtKitRuntime

/// The order of starts with the host, without QEMU.
struct AutostartPlanTests {
    static func entry(_ name: String, order: Int = 0, after: String? = nil) -> AutostartPlan.Entry {
        .init(name: name, order: order, delaySeconds: 0, after: after)
    }

    @Test func orderThenNameAtMostSlotsAtOnce() {
        var plan = AutostartPlan([Self.entry("c", order: 1), Self.entry("b", order: 2), Self.entry("a", order: 1)], alreadyRunning: [])
        #expect(plan.next(slots: 2).map(\.name) == ["a", "c"])
        #expect(plan.next(slots: 0).isEmpty)
        plan.finished("a", error: nil)
        #expect(plan.next(slots: 1).map(\.name) == ["b"])
        #expect(plan.isDone)
    }

    @Test func afterWaitsForItsDomainAndFailsWithIt() {
        var plan = AutostartPlan([Self.entry("web", after: "db"), Self.entry("db", order: 5), Self.entry("cache", after: "web"),
                                  Self.entry("solo", order: 9)], alreadyRunning: [])
        // web sorts first but waits for db; solo does not wait.
        #expect(plan.next(slots: 4).map(\.name) == ["db", "solo"])
        plan.finished("db", error: "boom")
        #expect(plan.isDone)
        #expect(plan.failed.map(\.name) == ["db", "web", "cache"])
        #expect(plan.failed[1].reason == "not started: 'db', which it starts after, did not start")
    }

    @Test func afterOnARunningOrUnplannedDomainIsMet() {
        var plan = AutostartPlan([Self.entry("web", after: "db"), Self.entry("app", after: "nowhere")], alreadyRunning: ["db"])
        #expect(plan.next(slots: 4).map(\.name) == ["app", "web"])
    }

    @Test func cyclesFailAndSoDoTheirDependents() {
        var plan = AutostartPlan([Self.entry("a", after: "b"), Self.entry("b", after: "a"), Self.entry("c", after: "a"),
                                  Self.entry("d")], alreadyRunning: [])
        #expect(Set(plan.failed.map(\.name)) == ["a", "b", "c"])
        #expect(plan.next(slots: 4).map(\.name) == ["d"])
        plan.finished("d", error: nil)
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
