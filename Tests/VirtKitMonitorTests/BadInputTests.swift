import Foundation
import Testing
import VirtKitTestSupport
import VirtKitQMP
@testable import VirtKitMonitor

extension RealQEMU {
    @Suite("Bad input, stalled clients, bursts, descriptors")
    struct BadInputTests {
        /// The server still answers on both channels.
        private func expectHealthy(_ fixture: MonitorFixture) async throws {
            let command = try await MonitorTestClient.connect(to: fixture.unix(.command))
            try await command.send("info name\n")
            #expect(try await command.waitClosed() == QEMUInstance.guestName + "\r\n")
            let interactive = try await MonitorTestClient.connect(to: fixture.unix(.interactive))
            try await interactive.send("info status\n")
            #expect(try await interactive.waitFor("(qemu) ", count: 2).contains("VM status: paused (prelaunch)"))
            await interactive.close()
            #expect(try await fixture.qmp.queryStatus().status == "prelaunch")
        }

        @Test func junkBytesGetErrorsAndTheServerCarriesOn() async throws {
            try await MonitorFixture.with { fixture in
                var junk: [UInt8] = []
                var generator = SplitMix(seed: 42)
                for _ in 0..<4096 { junk.append(UInt8(truncatingIfNeeded: generator.next())) }
                let interactive = try await MonitorTestClient.connect(to: fixture.unix(.interactive))
                try await interactive.send(Array(0...255) + junk + Array("\ninfo name\n".utf8))
                let text = try await interactive.waitFor(QEMUInstance.guestName + "\r\n(qemu) ")
                #expect(text.contains("error: control characters in the command line"))

                let command = try await MonitorTestClient.connect(to: fixture.unix(.command))
                try await command.send([0xC3, 0x28, 0x41, 0x0A])
                #expect(try await command.waitClosed() == "error: the command line is not valid UTF-8\r\n")
                let binary = try await MonitorTestClient.connect(to: fixture.unix(.command))
                try await binary.send(junk)
                let binaryText = try await binary.waitClosed()
                #expect(binaryText.hasPrefix("error: "))
                await interactive.close()
                try await expectHealthy(fixture)
            }
        }

        @Test func telnetNegotiationThenACommand() async throws {
            try await MonitorFixture.with(tcp: .automatic(base: randomBasePort(), ordinal: 0)) { fixture in
                let port = try #require(fixture.server.tcpPorts?.monitor)
                let client = try await MonitorTestClient.connect(to: .tcp(host: "127.0.0.1", port: port))
                // IAC DO ECHO, IAC WILL SUPPRESS-GO-AHEAD, IAC SB TERMINAL-TYPE IS "xterm" IAC SE,
                // IAC DO NAWS, as a telnet client in character mode sends; then a line with \r\0.
                var bytes: [UInt8] = [255, 253, 1, 255, 251, 3, 255, 250, 24, 0] + Array("xterm".utf8) + [255, 240]
                bytes += [255, 253, 31] + Array("info status\r\0".utf8)
                try await client.send(bytes)
                let text = try await client.waitFor("(qemu) ", count: 2)
                #expect(text.contains("VM status: paused (prelaunch)\r\n(qemu) "))
                #expect(!text.contains("unknown command"))
                await client.close()
            }
        }

        @Test(arguments: [MonitorChannel.interactive, .command])
        func oneMiBLineGetsAnErrorAndAClose(channel: MonitorChannel) async throws {
            try await MonitorFixture.with(tcp: .automatic(base: randomBasePort(), ordinal: 0)) { fixture in
                for address in [fixture.unix(channel), try #require(fixture.addresses(channel).last)] {
                    let client = try await MonitorTestClient.connect(to: address)
                    try? await client.send([UInt8](repeating: UInt8(ascii: "a"), count: 1 << 20))
                    let text = try await client.waitClosed()
                    #expect(text.hasSuffix("error: line longer than 65536 bytes\r\n"), "\(address): \(text)")
                }
                try await expectHealthy(fixture)
            }
        }

        @Test func halfCloseStillGetsTheAnswer() async throws {
            try await MonitorFixture.with(tcp: .automatic(base: randomBasePort(), ordinal: 0)) { fixture in
                for address in fixture.addresses(.command) {
                    // No newline: the end of input ends the line.
                    let hmp = try await MonitorTestClient.connect(to: address)
                    try await hmp.send("info status")
                    try await hmp.shutdownOutput()
                    #expect(try await hmp.waitClosed() == "VM status: paused (prelaunch)\r\n")
                    let qmp = try await MonitorTestClient.connect(to: address)
                    try await qmp.send(#"{"execute":"query-name","id":5}"# + "\n")
                    // The line is complete: the server may answer and close before the half-close.
                    try? await qmp.shutdownOutput()
                    #expect(try await qmp.waitClosed() == #"{"return":{"name":"vkmon-guest"},"id":5}"# + "\r\n")
                }
                for address in fixture.addresses(.interactive) {
                    let client = try await MonitorTestClient.connect(to: address)
                    try await client.send("info name\ninfo status\n")
                    try await client.shutdownOutput()
                    let text = try await client.waitClosed()
                    #expect(text.hasSuffix("(qemu) vkmon-guest\r\n(qemu) VM status: paused (prelaunch)\r\n(qemu) "))
                }
            }
        }

        @Test func silentCommandClientTimesOut() async throws {
            try await MonitorFixture.with(configure: { $0.idleTimeout = .seconds(1) }) { fixture in
                let silent = try await MonitorTestClient.connect(to: fixture.unix(.command))
                let partial = try await MonitorTestClient.connect(to: fixture.unix(.command))
                try await partial.send("info sta")
                for client in [silent, partial] {
                    #expect(try await client.waitClosed(timeout: .seconds(10)) == "error: no command received within 1.0 seconds\r\n")
                }
                // The interactive channel has no idle timeout.
                let interactive = try await MonitorTestClient.connect(to: fixture.unix(.interactive))
                try await Task.sleep(for: .seconds(1.5))
                #expect(!interactive.isClosed)
                await interactive.close()
            }
        }

        /// Clients that never read while megabytes of answers and events head their way are
        /// disconnected; everyone else carries on at speed.
        @Test func stalledClientsAreDisconnectedOthersUnaffected() async throws {
            try await MonitorFixture.with { fixture in
                // About 1.9 MB of output per command.
                let dump = "xp /65536xg 0"
                let stalledHMP = try await MonitorTestClient.connect(to: fixture.unix(.interactive), autoRead: false)
                try await stalledHMP.send(String(repeating: dump + "\n", count: 3))
                let stalledQMP = try await MonitorTestClient.connect(to: fixture.unix(.interactive), autoRead: false)
                var request = #"{"execute":"qmp_capabilities"}"# + "\n"
                for index in 0..<3 {
                    request += #"{"execute":"human-monitor-command","arguments":{"command-line":"\#(dump)"},"id":\#(index)}"# + "\n"
                }
                try await stalledQMP.send(request)
                let watcher = try await MonitorTestClient.connect(to: fixture.unix(.interactive))
                try await watcher.send(#"{"execute":"qmp_capabilities"}"# + "\n")
                try await watcher.waitFor(#"{"return":{}}"#)

                // Meanwhile other clients work, and events flow (also towards the stalled QMP client).
                let clock = ContinuousClock()
                for round in 0..<5 {
                    let started = clock.now
                    let command = try await MonitorTestClient.connect(to: fixture.unix(.command))
                    try await command.send(round.isMultiple(of: 2) ? "cont\n" : "stop\n")
                    try await command.waitClosed()
                    let interactive = try await MonitorTestClient.connect(to: fixture.unix(.interactive))
                    try await interactive.send("info name\n")
                    try await interactive.waitFor(QEMUInstance.guestName)
                    await interactive.close()
                    #expect(clock.now - started < .seconds(20), "not held up to a 30 s command timeout")
                }
                try await watcher.waitFor(#""event":"STOP""#, count: 2)
                try await watcher.waitFor(#""event":"RESUME""#, count: 3)

                // Only the watcher is left on the interactive channel.
                let deadline = clock.now + .seconds(30)
                while fixture.server.clientCounts[.interactive, default: 0] > 1, clock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))
                }
                #expect(fixture.server.clientCounts[.interactive, default: 0] == 1)
                await watcher.close()
                await stalledHMP.close()
                await stalledQMP.close()
                #expect(try await fixture.qmp.queryStatus().running)
            }
        }

        @Test func clientLeavingMidCommandLosesNothingForOthers() async throws {
            try await MonitorFixture.with { fixture in
                for _ in 0..<5 {
                    let leaver = try await MonitorTestClient.connect(to: fixture.unix(.command))
                    try await leaver.send("xp /65536xg 0\n")
                    await leaver.close()
                }
                try await expectHealthy(fixture)
                let deadline = ContinuousClock.now + .seconds(10)
                while fixture.server.clientCounts.values.reduce(0, +) > 0, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))
                }
                #expect(fixture.server.clientCounts.values.reduce(0, +) == 0)
            }
        }

        /// 1000 connects at once: each gets a banner, an error line or a close; afterwards no
        /// server socket is left but the listeners, and after stop() none at all.
        @Test func burstOfAThousandConnectsLeaksNothing() async throws {
            try await QEMUInstance.with { qemu in
                let qmp = try await qemu.connect()
                var configuration = MonitorServer.Configuration(
                    guestName: "burst", unixDirectory: .init(qemu.directory),
                    tcp: .automatic(base: randomBasePort(), ordinal: 0))
                configuration.idleTimeout = .seconds(1)
                let server = try await MonitorServer.start(
                    configuration: configuration, qmp: qmp, policy: .allowAll, logger: testLogger)
                let ports = try #require(server.tcpPorts)
                let portSet: Set = [ports.monitor, ports.command]
                let paths: Set = [configuration.interactiveSocketPath.string, configuration.commandSocketPath.string]
                let listeners = server.endpoints.count
                // Waited for, as below: the kernel's /proc/net tables can skip entries while
                // other tests open and close sockets.
                let started = try await SocketCensus.wait(
                    for: SocketCensus(serverSide: listeners, clientSide: 0), ports: portSet, paths: paths)
                #expect(started == SocketCensus(serverSide: listeners, clientSide: 0),
                        "\(server.endpoints)\n\(SocketCensus.explain(ports: portSet, paths: paths))")

                let tcpTargets = server.endpoints.filter { if case .tcp = $0.address { true } else { false } }.map(\.address)
                let unixTargets = [configuration.interactiveSocketPath, configuration.commandSocketPath].map {
                    MonitorEndpoint.Address.unix(path: $0)
                }
                // 600 over TCP at once; 400 over UNIX in waves of 100 (a full UNIX backlog
                // refuses a non-blocking connect instead of queueing it).
                var outcomes: [String] = []
                try await withThrowingTaskGroup(of: String.self) { group in
                    for index in 0..<600 {
                        group.addTask { try await Self.burstClient(tcpTargets[index % tcpTargets.count]) }
                    }
                    for try await outcome in group { outcomes.append(outcome) }
                }
                for wave in 0..<4 {
                    try await withThrowingTaskGroup(of: String.self) { group in
                        for index in 0..<100 {
                            group.addTask { try await Self.burstClient(unixTargets[(wave + index) % 2]) }
                        }
                        for try await outcome in group { outcomes.append(outcome) }
                    }
                }
                #expect(outcomes.count == 1000)
                #expect(outcomes.allSatisfy { ["banner", "error", "closed"].contains($0) }, "\(Set(outcomes))")

                // The server carries on.
                let command = try await MonitorTestClient.connect(to: .tcp(host: "127.0.0.1", port: ports.command))
                try await command.send("info status\n")
                #expect(try await command.waitClosed() == "VM status: paused (prelaunch)\r\n")
                #expect(try await qmp.queryStatus().status == "prelaunch")

                let running = try await SocketCensus.wait(
                    for: SocketCensus(serverSide: listeners, clientSide: 0), ports: portSet, paths: paths)
                #expect(running == SocketCensus(serverSide: listeners, clientSide: 0),
                        "\(server.endpoints)\n\(SocketCensus.explain(ports: portSet, paths: paths))")
                await server.stop()
                let stopped = try await SocketCensus.wait(
                    for: SocketCensus(serverSide: 0, clientSide: 0), ports: portSet, paths: paths)
                #expect(stopped == SocketCensus(serverSide: 0, clientSide: 0))
                #expect(!FileManager.default.fileExists(atPath: configuration.interactiveSocketPath.string))
                #expect(!FileManager.default.fileExists(atPath: configuration.commandSocketPath.string))
                await qmp.close()
            }
        }

        /// One burst client: connects, waits for the first bytes or a close, closes.
        private static func burstClient(_ address: MonitorEndpoint.Address) async throws -> String {
            let client: MonitorTestClient
            do {
                client = try await MonitorTestClient.connect(to: address)
            } catch {
                return "connect failed: \(error)"
            }
            let deadline = ContinuousClock.now + .seconds(30)
            while client.bytes.isEmpty, !client.isClosed, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            let (text, closed) = client.textAndClosed
            await client.close()
            if text.hasPrefix("QEMU ") { return "banner" }
            if text.hasPrefix("error: ") { return "error" }
            return closed && text.isEmpty ? "closed" : "unexpected: \(text.prefix(100))"
        }
    }
}

/// A small deterministic generator for junk bytes.
struct SplitMix {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
