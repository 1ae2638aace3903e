import Foundation
import SystemPackage
import Testing
import VirtKitTestSupport
import VirtKitAPI
import VirtKitHost
#if canImport(Glibc)
import Glibc
#endif

/// `virtkit console`, `channel` and `log` against a real virtkitd and guest, and the brokers
/// after a `kill -9` of the daemon.
@Suite("Console CLI: console, channel and log through virtkitd, across a daemon restart", .tags(.qemu), .serialized)
struct ConsoleCLITests {
    /// Polls `virtkit log NAME DEVICE` until it holds `marker`.
    static func waitForLog(_ harness: GuestHarness, _ name: String, _ device: String, _ marker: String) async throws -> Bool {
        for _ in 0..<600 {
            let log = try await DaemonProcessTests.cli(harness, ["log", name, device])
            if log.1.contains(marker) { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    @Test("piped console and channel round trips, logs, errors; all still served after kill -9 of virtkitd")
    func consoleChannelLog() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let (first, _) = try await DaemonProcessTests.startDaemon(harness)
        var daemons = [first]
        defer { for daemon in daemons { daemon.send(signal: SIGKILL) } }
        let file = harness.root.appending("guest.xml").string
        try AtomicFile.write(harness.domainXML(name: "talk"), to: FilePath(file))
        #expect(try await DaemonProcessTests.cli(harness, ["define", file]).0 == 0)
        #expect(try await DaemonProcessTests.cli(harness, ["start", "talk"]).0 == 0)
        #expect(try await Self.waitForLog(harness, "talk", "serial0", "VIRTKIT-GUEST-READY"), "the console log has the boot")

        // Piped input: sent, the answers read, then the client ends by itself.
        let console = try await DaemonProcessTests.cli(harness, ["console", "talk"], input: "echo piped-$((6*7))\n")
        #expect(console.0 == 0, "\(console)")
        #expect(console.1.contains("VIRTKIT-GUEST-READY"), "the scrollback comes first")
        #expect(console.1.contains("piped-42\r\n"), "\(console.1.suffix(300))")
        let echo = try await DaemonProcessTests.cli(harness, ["channel", "talk", "org.example.echo"], input: "from the cli\n")
        #expect(echo.0 == 0 && echo.1 == "ECHO:FROM THE CLI\n", "\(echo)")

        let log = try await DaemonProcessTests.cli(harness, ["log", "talk", "console0"])
        #expect(log.0 == 0 && log.1.contains("piped-42"), "console0 names the serial's log")
        let channelLog = try await DaemonProcessTests.cli(harness, ["log", "talk", "org.example.echo"])
        #expect(channelLog.1.contains("ECHO:FROM THE CLI"), "\(channelLog)")
        let qemuLog = try await DaemonProcessTests.cli(harness, ["log", "talk"])
        #expect(qemuLog.1.contains("starting up"), "without a device: the QEMU log")
        let noAgentLog = try await DaemonProcessTests.cli(harness, ["log", "talk", "org.qemu.guest_agent.0"])
        #expect(noAgentLog.0 == 1 && noAgentLog.2.contains("is not logged"), "\(noAgentLog)")
        let unknown = try await DaemonProcessTests.cli(harness, ["console", "talk", "serial7"])
        #expect(unknown.0 == 1 && unknown.2 == "error: internal error: cannot find character device serial7\n", "\(unknown)")
        // While a client holds the pen, a second read-write console is told so and exits 1.
        do {
            let holder = try SocketReader(connectingTo: harness.serialPath("talk"))
            try holder.send("\n")
            let second = try await DaemonProcessTests.cli(harness, ["console", "talk"], input: "echo nope\n")
            #expect(second.0 == 1 && second.1.contains("is in use by another client; use --force or --shared"), "\(second)")
            let shared = try await DaemonProcessTests.cli(harness, ["console", "talk", "--shared"], input: "echo shared-$((3*5))\n")
            #expect(shared.0 == 0 && shared.1.contains("shared-15\r\n"), "\(shared.1.suffix(200))")
            _ = holder
        }
        let notChannel = try await DaemonProcessTests.cli(harness, ["channel", "talk", "nope.channel"])
        #expect(notChannel.0 == 1 && notChannel.2 == "error: internal error: cannot find channel nope.channel\n", "\(notChannel)")

        // kill -9 of the daemon: the next one reconnects to QEMU's side of every chardev.
        kill(first.pid, SIGKILL)
        _ = await ProcessExitWatcher.waitForExit(first)
        let (second, _) = try await DaemonProcessTests.startDaemon(harness)
        daemons.append(second)
        let again = try await DaemonProcessTests.cli(harness, ["channel", "talk", "org.example.echo"], input: "after the restart\n")
        #expect(again.1 == "ECHO:AFTER THE RESTART\n", "\(again)")
        let console2 = try await DaemonProcessTests.cli(harness, ["console", "talk", "--shared"], input: "echo restarted-$((7*7))\n")
        #expect(console2.1.contains("restarted-49\r\n"), "\(console2.1.suffix(300))")
        let path = try SocketReader(connectingTo: harness.serialPath("talk"))
        try path.send("echo by-path-$((8*8))\n")
        #expect(await path.waitFor("by-path-64", timeout: 20), "the domain's own socket path is served again")
        // One log across both daemons: appended, not restarted.
        let log2 = try await DaemonProcessTests.cli(harness, ["log", "talk", "serial0"])
        #expect(log2.1.contains("piped-42") && log2.1.contains("restarted-49"))

        #expect(try await DaemonProcessTests.cli(harness, ["destroy", "talk"]).0 == 0)
        #expect(harness.leftovers().isEmpty, "left: \(harness.leftovers())")
        #expect(access(harness.serialPath("talk"), F_OK) != 0)
    }
}
