import Testing
import VirtKitQMP
@testable import VirtKitMonitor

@Suite("HMP parsing and the standard policy")
struct PolicyTests {
    @Test(arguments: [
        ("info status", "info", "status"),
        ("  q  ", "q", ""),
        ("quit", "quit", ""),
        ("x/10x 0", "x", "/10x 0"),
        ("\tchardev-remove  \"char serial\" ", "chardev-remove", "\"char serial\""),
        ("", "", ""),
        ("QUIT", "QUIT", ""),
    ])
    func splitsLikeQEMU(line: String, name: String, arguments: String) {
        let parsed = HMPCommandLine(line)
        #expect(parsed.name == name)
        #expect(parsed.arguments == arguments)
    }

    @Test func firstArgument() {
        #expect(HMPCommandLine("chardev-remove charchannel0 extra").firstArgument == "charchannel0")
        #expect(HMPCommandLine(#"chardev-remove "a \"b\"" x"#).firstArgument == #"a "b""#)
        #expect(HMPCommandLine("chardev-remove").firstArgument == nil)
        #expect(HMPCommandLine("q").isQuit && HMPCommandLine("quit").isQuit)
        #expect(!HMPCommandLine("qu").isQuit && !HMPCommandLine("QUIT").isQuit && !HMPCommandLine("quitx").isQuit)
    }

    private static let brokered: Set<String> = ["charchannel0"]

    @Test(arguments: [
        (MonitorCommand.hmp("quit"), "handled"),
        (.hmp(" q"), "handled"),
        (.hmp("q now"), "refuse"),
        (.hmp("qu"), "allow"),
        (.hmp("chardev-remove charchannel0"), "refuse"),
        (.hmp("chardev-change charchannel0 null"), "refuse"),
        (.hmp("chardev-remove other"), "allow"),
        (.hmp("info chardev"), "allow"),
        (.qmp(name: "quit", arguments: nil), "handled"),
        (.qmp(name: "chardev-remove", arguments: ["id": "charchannel0"]), "refuse"),
        (.qmp(name: "chardev-remove", arguments: ["id": "other"]), "allow"),
        (.qmp(name: "query-status", arguments: nil), "allow"),
    ])
    func standardPolicy(command: MonitorCommand, expected: String) async {
        let quits = CallCounter()
        let policy = MonitorPolicy.standard(onQuit: { quits.increment() }, brokeredChardevs: { Self.brokered })
        let verdict = await policy.review(command, on: .interactive)
        switch verdict {
        case .allow: #expect(expected == "allow")
        case .handled(let value, let text):
            #expect(expected == "handled")
            #expect(value == .object([:]) && text.isEmpty)
            #expect(quits.value == 1)
        case .refuse(let message):
            #expect(expected == "refuse")
            if message.contains("chardev") { #expect(message.contains("'charchannel0'")) }
        }
        if expected != "handled" { #expect(quits.value == 0) }
    }

    @Test(arguments: [
        (MonitorCommand.hmp("quit"), "wait"),
        (.hmp(" q"), "wait"),
        (.qmp(name: "quit", arguments: nil), "wait"),
        (.hmp("q now"), "refuse"),
        (.hmp("chardev-remove charchannel0"), "refuse"),
        (.qmp(name: "chardev-change", arguments: ["id": "charchannel0"]), "refuse"),
        (.hmp("info status"), "allow"),
        (.qmp(name: "query-status", arguments: nil), "allow"),
    ])
    func standardPolicyDecidesAllButQuitWithoutWaiting(command: MonitorCommand, expected: String) {
        let quits = CallCounter()
        let policy = MonitorPolicy.standard(onQuit: { quits.increment() }, brokeredChardevs: { Self.brokered })
        switch policy.decideNow(command, on: .interactive) {
        case nil: #expect(expected == "wait")
        case .allow: #expect(expected == "allow")
        case .refuse: #expect(expected == "refuse")
        case .handled: Issue.record("handled without waiting: \(command)")
        }
        #expect(quits.value == 0)
    }

    @Test func reviewFallsBackWhenTheQuickDecisionIsOpen() async {
        let reviewed = CallCounter()
        let policy = MonitorPolicy(
            decide: { command, _ in command == .hmp("slow") ? nil : .refuse("quick") },
            review: { _, _ in
                reviewed.increment()
                return .allow
            })
        #expect(await policy.review(.hmp("fast"), on: .command) == .refuse("quick"))
        #expect(reviewed.value == 0)
        #expect(await policy.review(.hmp("slow"), on: .command) == .allow)
        #expect(reviewed.value == 1)
        #expect(MonitorPolicy { _, _ in .allow }.decideNow(.hmp("x"), on: .command) == nil)
        #expect(MonitorPolicy.allowAll.decideNow(.hmp("x"), on: .command) == .allow)
    }

    @Test func eventLineHasQEMUShape() throws {
        let event = QMP.Event(name: "STOP", data: [:], timestamp: .init(timeIntervalSince1970: 1_700_000_000.25))
        let line = MonitorHub.eventLine(event)
        #expect(line.suffix(2) == Array("\r\n".utf8))
        let value = try QMP.Value(json: line.dropLast(2))
        #expect(value["event"] == "STOP")
        #expect(value["data"] == .object([:]))
        #expect(value["timestamp"]?["seconds"] == 1_700_000_000)
        #expect(value["timestamp"]?["microseconds"] == 250_000)
    }
}
