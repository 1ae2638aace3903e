import Foundation
import SystemPackage
import Testing
import VirtKitAPI
import VirtKitHost
import VirtKitTestSupport

/// ★ No console byte lost across a daemon crash: QEMU's side of each brokered chardev is kept
/// open by the descriptor holder while no virtkitd runs, so what the guest prints meanwhile
/// waits in the kernel's buffer and the next daemon drains it.
@Suite("console output across daemon crashes", .tags(.qemu), .serialized)
struct ConsoleCrashTests {
    @Test("20,000 numbered lines on ttyS0 while virtkitd is killed -9 five times: the log holds each once, in order; a re-attaching client misses none")
    func everyLineSurvivesKills() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        var (daemon, client) = try await DaemonProcessTests.startDaemon(harness)
        let name = "crashy"
        _ = try client.define(xml: harness.domainXML(name: name))
        try client.start(name, paused: false)
        var reader = try SocketReader(connectingTo: harness.serialPath(name))
        #expect(await reader.waitFor("VIRTKIT-GUEST-READY", timeout: 120))
        try reader.send("\n")
        #expect(await reader.waitFor("# ", timeout: 30))
        // Bursts of 100 lines, 50 ms apart: about ten seconds of output, across all the kills.
        let count = 20_000
        try reader.send("for i in $(seq 0 199); do seq $((i*100+1)) $((i*100+100)); sleep 0.05; done; echo LOOP-$((2+3))-DONE\n")
        // Each session's bytes: the first client's, then each re-attached one's.
        var sessions: [[UInt8]] = []
        #expect(await reader.waitFor("\r\n1\r\n", timeout: 30), "the loop started")
        let logPath = harness.layout.logDirectory.appending(name).appending("serial0.log").string
        let finished = { AtomicFile.read(FilePath(logPath)).map { $0.containsSubsequence(Array("LOOP-5-DONE".utf8)) } ?? false }
        var killsWhilePrinting = 0
        for kill in 1...5 {
            // The client reads all along (a client that does not read loses what virtkitd
            // queued for it when virtkitd dies; the log does not).
            _ = await reader.waitFor("never-printed", timeout: 0.3)
            if !finished() { killsWhilePrinting += 1 }
            daemon.send(signal: SIGKILL)
            _ = await ProcessExitWatcher.waitForExit(daemon)
            // What the dead daemon had sent this client, to its end of file.
            _ = await reader.waitFor("never-printed", timeout: 5)
            sessions.append(reader.transcript)
            (daemon, client) = try await DaemonProcessTests.startDaemon(harness)
            #expect(try client.state(name).state == .running, "kill \(kill): the guest is re-attached")
            reader = try SocketReader(connectingTo: harness.serialPath(name))
        }
        defer { daemon.send(signal: SIGKILL) }
        let deadline = ContinuousClock.now + .seconds(300)
        #expect(killsWhilePrinting == 5, "the guest was still printing at \(killsWhilePrinting) of the 5 kills")
        while ContinuousClock.now < deadline, !finished() {
            _ = await reader.waitFor("never-printed", timeout: 0.2)
        }
        _ = await reader.waitFor("LOOP-5-DONE", timeout: 10)
        sessions.append(reader.transcript)

        // A re-attached client starts with the scrollback, which the new daemon seeds from the
        // log: it repeats lines the client had, then goes on; what is new must follow on.
        let expected = Array(1...count)
        var fromClient: [Int] = []
        for session in sessions {
            let lines = ConsoleBrokerTests.numberedLines(bytes: session)
            fromClient += lines.drop { $0 <= (fromClient.last ?? 0) }
        }
        let logged = ConsoleBrokerTests.numberedLines(log: logPath)
        #expect(logged == expected, "log: \(logged.count) lines, first difference at \(Self.firstDifference(logged, expected))")
        #expect(fromClient == expected, "client: \(fromClient.count) lines, first difference at \(Self.firstDifference(fromClient, expected))")

        _ = try client.perform(.destroy, name)
        daemon.send(signal: SIGKILL)
        _ = await ProcessExitWatcher.waitForExit(daemon)
        // The holder holds nothing once the guest is gone, and goes when its daemon has.
        let holderDeadline = ContinuousClock.now + .seconds(5)
        while !GuestHarness.processes(mentioning: "fd-holder.sock").filter({ Self.mentionsRoot($0, harness) }).isEmpty,
              ContinuousClock.now < holderDeadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(GuestHarness.processes(mentioning: "fd-holder.sock").filter { Self.mentionsRoot($0, harness) }.isEmpty)
    }

    static func mentionsRoot(_ pid: Int32, _ harness: GuestHarness) -> Bool {
        ProcessIdentity.of(pid: pid)?.arguments.contains { $0.hasPrefix(harness.root.string) } ?? false
    }

    static func firstDifference(_ got: [Int], _ expected: [Int]) -> Int {
        zip(got, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(got.count, expected.count)
    }
}
