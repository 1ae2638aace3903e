import Foundation
import Testing
import VirtKitTestSupport
import VirtKitQMP
@testable import VirtKitMonitor

extension RealQEMU {
    @Suite("Policy against real QEMU")
    struct PolicyEnforcementTests {
        private static let chardevs = ["-chardev", "null,id=charchannel0", "-chardev", "null,id=scratch"]

        private func standardPolicy(_ quits: CallCounter) -> MonitorPolicy {
            .standard(onQuit: { quits.increment() }, brokeredChardevs: { ["charchannel0"] })
        }

        private func command(_ fixture: MonitorFixture, _ line: String) async throws -> String {
            let client = try await MonitorTestClient.connect(to: fixture.unix(.command))
            try await client.send(line + "\n")
            return try await client.waitClosed()
        }

        @Test func quitGoesToTheDaemonNotQEMU() async throws {
            let quits = CallCounter()
            try await MonitorFixture.with(policy: standardPolicy(quits)) { fixture in
                let interactive = try await MonitorTestClient.connect(to: fixture.unix(.interactive))
                try await interactive.send("quit\n")
                try await interactive.waitFor("(qemu) ", count: 2)
                #expect(quits.value == 1)
                try await interactive.send("q now\n")
                #expect(try await interactive.waitFor("(qemu) ", count: 3).contains("quit|q: extraneous characters"))
                #expect(quits.value == 1)
                await interactive.close()

                #expect(try await command(fixture, "q") == "")
                #expect(try await command(fixture, #"{"execute":"quit","id":"bye"}"#) == #"{"return":{},"id":"bye"}"# + "\r\n")
                let smuggled = try await command(
                    fixture, #"{"execute":"human-monitor-command","arguments":{"command-line":" quit"},"id":9}"#)
                #expect(smuggled == #"{"return":"","id":9}"# + "\r\n")
                #expect(quits.value == 4)

                // QEMU is alive and still answers.
                try await Task.sleep(for: .milliseconds(200))
                #expect(fixture.qemu.process.isRunning)
                #expect(try await fixture.qmp.queryStatus().status == "prelaunch")
            }
        }

        @Test func brokeredChardevCannotBeRemoved() async throws {
            let quits = CallCounter()
            try await MonitorFixture.with(qemuArguments: Self.chardevs, policy: standardPolicy(quits)) { fixture in
                let hmp = try await command(fixture, "chardev-remove charchannel0")
                #expect(hmp.contains("chardev-remove refused: chardev 'charchannel0' is brokered by VirtKit"))
                let qmp = try QMP.Value(json: try await command(
                    fixture, #"{"execute":"chardev-remove","arguments":{"id":"charchannel0"},"id":1}"#))
                #expect(qmp["error"]?["class"] == "GenericError")
                #expect(qmp["error"]?["desc"]?.string?.contains("'charchannel0'") == true)
                #expect(qmp["id"] == 1)
                let smuggled = try QMP.Value(json: try await command(
                    fixture,
                    #"{"execute":"human-monitor-command","arguments":{"command-line":"chardev-remove charchannel0"}}"#))
                #expect(smuggled["error"]?["desc"]?.string?.contains("'charchannel0'") == true)

                // An unbrokered chardev goes; the brokered one stays.
                #expect(try await command(fixture, "chardev-remove scratch") == "")
                let chardevs = try await command(fixture, "info chardev")
                #expect(chardevs.contains("charchannel0:"))
                #expect(!chardevs.contains("scratch:"))
                #expect(quits.value == 0)
            }
        }

        @Test func qmpCapabilitiesRefusedOnTheCommandChannel() async throws {
            try await MonitorFixture.with(policy: standardPolicy(CallCounter())) { fixture in
                let reply = try QMP.Value(json: try await command(fixture, #"{"execute":"qmp_capabilities","id":"neg"}"#))
                #expect(reply["error"]?["desc"]?.string?.contains("qmp_capabilities is not used on the command channel") == true)
                #expect(reply["id"] == "neg")
            }
        }

        /// Quick verdicts, awaited ones and QEMU's answers interleave in one pipelined burst;
        /// each comes back in order with its id.
        @Test func quickAndAwaitedVerdictsKeepTheClientsOrder() async throws {
            let reviews = CallCounter()
            let policy = MonitorPolicy(
                decide: { command, _ in
                    switch command {
                    case .qmp(name: "query-name", _): .refuse("quick")
                    case .qmp(name: "query-uuid", _): nil
                    default: .allow
                    }
                },
                review: { _, _ in
                    reviews.increment()
                    try? await Task.sleep(for: .milliseconds(1))
                    return .handled(["slow": true], hmpText: "")
                })
            try await MonitorFixture.with(policy: policy) { fixture in
                let client = try await MonitorTestClient.connect(to: fixture.unix(.interactive))
                let names = ["query-status", "query-name", "query-uuid"]
                var burst = #"{"execute":"qmp_capabilities"}"# + "\n"
                for id in 0..<300 { burst += #"{"execute":"\#(names[id % 3])","id":\#(id)}"# + "\n" }
                try await client.send(burst)
                let text = try await client.waitFor(#""id":299}"#)
                let afterPrompt = try #require(text.range(of: "(qemu) ")).upperBound
                let replies = try text[afterPrompt...].split(separator: "\r\n").map { try QMP.Value(json: Array($0.utf8)) }
                    .filter { $0["event"] == nil }
                #expect(replies.first == ["return": [:]])
                let answers = Array(replies.dropFirst())
                #expect(answers.count == 300)
                for (id, reply) in answers.enumerated() {
                    #expect(reply["id"] == .int(Int64(id)))
                    switch id % 3 {
                    case 0: #expect(reply["return"]?["status"] == "prelaunch")
                    case 1: #expect(reply["error"]?["desc"] == "quick")
                    default: #expect(reply["return"] == ["slow": true])
                    }
                }
                #expect(reviews.value == 100)
                await client.close()
            }
        }

        /// A long queue of lines the policy refuses at once is answered without a deep stack.
        @Test func manyQuickRefusalsInOneBurst() async throws {
            try await MonitorFixture.with(qemuArguments: Self.chardevs, policy: standardPolicy(CallCounter())) { fixture in
                let client = try await MonitorTestClient.connect(to: fixture.unix(.interactive))
                try await client.send(String(repeating: "chardev-remove charchannel0\n", count: 2000) + "info status\n")
                let text = try await client.waitFor("VM status")
                #expect(text.components(separatedBy: "is brokered by VirtKit").count - 1 == 2000)
                await client.close()
            }
        }

        @Test func customPolicySeesTheChannel() async throws {
            let policy = MonitorPolicy { command, channel in
                if case .hmp(let line) = command, line == "info name", channel == .command { return .refuse("not here") }
                if case .qmp(let name, _) = command, name == "query-name" {
                    return .handled(["name": "from the daemon"], hmpText: "unused")
                }
                return .allow
            }
            try await MonitorFixture.with(policy: policy) { fixture in
                #expect(try await command(fixture, "info name") == "not here\r\n")
                #expect(try await command(fixture, #"{"execute":"query-name"}"#) == #"{"return":{"name":"from the daemon"}}"# + "\r\n")
                let interactive = try await MonitorTestClient.connect(to: fixture.unix(.interactive))
                try await interactive.send("info name\n")
                #expect(try await interactive.waitFor("(qemu) ", count: 2).contains(QEMUInstance.guestName))
                await interactive.close()
            }
        }
    }
}
