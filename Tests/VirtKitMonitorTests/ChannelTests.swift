import Foundation
import Testing
import VirtKitTestSupport
import VirtKitQMP
@testable import VirtKitMonitor

extension RealQEMU {
    @Suite("Channels: many clients, HMP, QMP, events")
    struct ChannelTests {
        /// (command, what its answer contains), for a paused or running VM.
        private static func hmpCases(running: Bool) -> [(String, String)] {
            [
                ("info status", running ? "VM status: running" : "VM status: paused (prelaunch)"),
                ("info name", QEMUInstance.guestName),
                ("info chardev", "compat_monitor0: filename=unix:"),
            ]
        }

        /// 10 interactive clients at once on `address`, two commands each; every client gets
        /// the banner and its own answers in order.
        private func interactiveRound(_ address: MonitorEndpoint.Address, running: Bool) async throws {
            let cases = Self.hmpCases(running: running)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<10 {
                    group.addTask {
                        let client = try await MonitorTestClient.connect(to: address)
                        let first = cases[index % 3]
                        let second = cases[(index + 1) % 3]
                        try await client.send(first.0 + "\n" + second.0 + "\r\n")
                        let text = try await client.waitFor("(qemu) ", count: 3)
                        await client.close()
                        let parts = text.components(separatedBy: "(qemu) ")
                        #expect(parts[0] == "QEMU 7.2.22 monitor - type 'help' for more information\r\n" || parts[0].hasPrefix("QEMU "))
                        #expect(parts[1].contains(first.1), "\(address) client \(index): \(parts[1])")
                        #expect(parts[2].contains(second.1), "\(address) client \(index): \(parts[2])")
                    }
                }
                try await group.waitForAll()
            }
        }

        /// 10 command-channel clients at once on `address`: HMP and QMP by turns.
        private func commandRound(_ address: MonitorEndpoint.Address, running: Bool) async throws {
            let cases = Self.hmpCases(running: running)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<10 {
                    group.addTask {
                        let client = try await MonitorTestClient.connect(to: address)
                        if index.isMultiple(of: 2) {
                            let (command, expected) = cases[index / 2 % 3]
                            try await client.send(command + "\n")
                            let text = try await client.waitClosed()
                            #expect(text.contains(expected), "\(address) client \(index): \(text)")
                            #expect(!text.contains("(qemu)"))
                        } else {
                            try await client.send(#"{"execute":"query-status","id":"client-\#(index)"}"# + "\n")
                            let text = try await client.waitClosed()
                            let reply = try QMP.Value(json: text.trimmingCharacters(in: .whitespacesAndNewlines))
                            #expect(reply["id"] == .string("client-\(index)"))
                            #expect(reply["return"]?["running"] == .bool(running))
                        }
                    }
                }
                try await group.waitForAll()
            }
        }

        @Test func tenClientsPerChannelOnEveryEndpoint() async throws {
            try await MonitorFixture.with(tcp: .automatic(base: randomBasePort(), ordinal: 0)) { fixture in
                let hosts = Set(fixture.server.endpoints.compactMap { endpoint -> String? in
                    if case .tcp(let host, _) = endpoint.address { return host }
                    return nil
                })
                #expect(hosts == (hostHasIPv6Loopback ? ["127.0.0.1", "::1"] : ["127.0.0.1"]))
                #expect(fixture.server.endpoints.count == 2 + 2 * hosts.count)
                #expect(fixture.server.tcpDisabledReason == nil)

                for running in [false, true] {
                    if running {
                        let client = try await MonitorTestClient.connect(to: fixture.unix(.command))
                        try await client.send("cont\n")
                        #expect(try await client.waitClosed() == "")
                    }
                    for address in fixture.addresses(.interactive) {
                        try await interactiveRound(address, running: running)
                    }
                    for address in fixture.addresses(.command) {
                        try await commandRound(address, running: running)
                    }
                }
            }
        }

        @Test func eventsReachEveryQMPClient() async throws {
            try await MonitorFixture.with { fixture in
                var qmpClients: [MonitorTestClient] = []
                for index in 0..<3 {
                    let client = try await MonitorTestClient.connect(to: fixture.unix(.interactive))
                    try await client.send(#"{"execute": "qmp_capabilities", "id": \#(index)}"# + "\n")
                    try await client.waitFor(#"{"return":{},"id":\#(index)}"#)
                    qmpClients.append(client)
                }
                let hmp = try await MonitorTestClient.connect(to: fixture.unix(.interactive))
                try await hmp.waitFor("(qemu) ")

                // Resume from the command channel, pause from an HMP client, resume from a QMP client.
                let command = try await MonitorTestClient.connect(to: fixture.unix(.command))
                try await command.send(#"{"execute":"cont","id":1}"# + "\n")
                #expect(try await command.waitClosed() == #"{"return":{},"id":1}"# + "\r\n")
                try await qmpClients[2].waitFor(#""event":"RESUME""#)
                try await hmp.send("stop\n")
                try await hmp.waitFor("(qemu) ", count: 2)
                try await qmpClients[2].waitFor(#""event":"STOP""#)
                try await qmpClients[0].send(#"{"execute":"cont","id":"again"}"# + "\n")
                try await qmpClients[0].waitFor(#"{"return":{},"id":"again"}"#)

                for client in qmpClients {
                    let text = try await client.waitFor(#""event":"RESUME""#, count: 2)
                    #expect(eventNames(text) == ["RESUME", "STOP", "RESUME"])
                    let stop = try #require(jsonLines(text).first { $0.contains(#""event":"STOP""#) })
                    let event = try QMP.Value(json: stop)
                    #expect(event["timestamp"]?["seconds"]?.int ?? 0 > 1_600_000_000)
                    #expect(event["timestamp"]?["microseconds"]?.int != nil)
                    #expect(event["data"] != nil)
                    await client.close()
                }
                #expect(!hmp.text.contains("event"))
                await hmp.close()
            }
        }

        @Test func qmpSessionPassesIDsErrorsAndHMP() async throws {
            try await MonitorFixture.with { fixture in
                let client = try await MonitorTestClient.connect(to: fixture.unix(.interactive))
                try await client.send(#"{"execute":"qmp_capabilities"}"# + "\r\n")
                try await client.send(#"{"execute":"query-name","id":{"nested":[1,"x"]}}"# + "\n")
                try await client.send(#"{"execute":"no-such-command","id":2}"# + "\n")
                try await client.send(#"{"execute":"human-monitor-command","arguments":{"command-line":"info name"},"id":3}"# + "\n")
                try await client.send("not json\n[1]\n{\"execute\":\"qmp_capabilities\",\"id\":4}\n")
                let text = try await client.waitFor(#""id":4"#)
                let replies = try jsonLines(text).map { try QMP.Value(json: $0) }
                #expect(replies.count == 7)
                guard replies.count == 7 else { return }
                #expect(replies[0] == ["return": [:]])
                #expect(replies[1] == ["return": ["name": .string(QEMUInstance.guestName)], "id": ["nested": [1, "x"]]])
                #expect(replies[2]["error"]?["class"] == "CommandNotFound")
                #expect(replies[2]["id"] == 2)
                #expect(replies[3] == ["return": .string(QEMUInstance.guestName + "\r\n"), "id": 3])
                #expect(replies[4]["error"]?["desc"] == "JSON parse error")
                #expect(replies[5]["error"]?["desc"] == "QMP input must be a JSON object")
                #expect(replies[6]["error"]?["class"] == "CommandNotFound")
                await client.close()
            }
        }

        @Test func clientLimitPerChannel() async throws {
            try await MonitorFixture.with(configure: { $0.maxClientsPerChannel = 3 }) { fixture in
                var clients: [MonitorTestClient] = []
                for _ in 0..<3 {
                    let client = try await MonitorTestClient.connect(to: fixture.unix(.interactive))
                    try await client.waitFor("(qemu) ")
                    clients.append(client)
                }
                let extra = try await MonitorTestClient.connect(to: fixture.unix(.interactive))
                #expect(try await extra.waitClosed() == "error: too many clients on the interactive channel (limit 3)\r\n")
                // The command channel counts on its own.
                let command = try await MonitorTestClient.connect(to: fixture.unix(.command))
                try await command.send("info name\n")
                #expect(try await command.waitClosed() == QEMUInstance.guestName + "\r\n")
                // A slot freed is a slot to use.
                await clients.removeFirst().close()
                let deadline = ContinuousClock.now + .seconds(10)
                while fixture.server.clientCounts[.interactive, default: 0] > 2, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                }
                let again = try await MonitorTestClient.connect(to: fixture.unix(.interactive))
                try await again.waitFor("(qemu) ")
                for client in clients + [again] { await client.close() }
            }
        }
    }
}
