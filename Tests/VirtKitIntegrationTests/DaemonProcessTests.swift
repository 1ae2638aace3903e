import Foundation
import SystemPackage
import Testing
import VirtKitAPI
import VirtKitClient
import VirtKitHost
import VirtKitTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// virtkitd and virtkit as real processes: the API on its UNIX socket, the CLI's verbs, and a
/// `kill -9` of the daemon that the guest survives and the next daemon re-attaches to.
@Suite("Daemon process: API, CLI, re-attach after kill -9", .tags(.qemu), .serialized)
struct DaemonProcessTests {
    static func binary(_ name: String) throws -> String {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for directory in [besideTests, besideTests.deletingLastPathComponent(),
                          TestFiles.packageRoot.appendingPathComponent(".build/debug")] {
            let candidate = directory.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw HarnessError("no \(name) binary beside the tests; run swift build first")
    }

    /// Starts a virtkitd on the harness's layout and waits until it answers.
    /// `netns`: the daemon runs in that network namespace (`ip netns exec`, which execs it: the
    /// identity is the daemon's).
    static func startDaemon(_ harness: GuestHarness, configDirectory: String? = nil,
                            options: [String] = [], netns: String? = nil) async throws -> (ProcessIdentity, DaemonClient) {
        let log = try FileDescriptor.open(harness.root.appending("virtkitd.out"), .writeOnly,
                                          options: [.create, .append], permissions: .ownerReadWrite)
        defer { try? log.close() }
        let daemon = try binary("virtkitd")
        let pid = try ProcessSpawner.spawn(
            executable: FilePath(netns == nil ? daemon : "/usr/sbin/ip"),
            arguments: (netns.map { ["ip", "netns", "exec", $0, daemon] } ?? ["virtkitd"]) + ["--run-dir", harness.layout.runDirectory.string,
                        "--state-dir", harness.layout.stateDirectory.string,
                        "--log-dir", harness.layout.logDirectory.string, "--log-level", "info",
                        "--config-dir", configDirectory ?? harness.root.appending("no-etc").string] + options,
            environment: ProcessInfo.processInfo.environment, output: log, placements: [])
        let identity = try #require(ProcessIdentity.of(pid: pid))
        let client = DaemonClient(socketPath: harness.layout.socketPath.string)
        // A generous deadline: under a full parallel test run (several TCG guests booting on 2
        // cores) a daemon once took more than 5 s to answer its first request.
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if (try? await client.version()) != nil { return (identity, client) }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw HarnessError("virtkitd did not answer: \(String(decoding: AtomicFile.read(harness.root.appending("virtkitd.out")) ?? [], as: UTF8.self))")
    }

    /// Runs the virtkit CLI against the harness's daemon; (exit status, stdout, stderr). The
    /// process is waited for on a thread of its own: a test blocking the concurrency pool would
    /// starve every in-process broker, fake agent and NIO-backed wait of the other tests.
    static func cli(_ harness: GuestHarness, _ arguments: [String], input: String? = nil) async throws -> (Int32, String, String) {
        // virsh's order: -c URI before the verb.
        try await run(try binary("virtkit"), ["-c", "virtkit+unix://" + harness.layout.socketPath.string] + arguments,
                      input: input)
    }

    /// Runs `executable` with `arguments` and `input` on standard input (then its end), waited
    /// for on a thread of its own; (exit status, stdout, stderr).
    static func run(_ executable: String, _ arguments: [String], input: String? = nil) async throws -> (Int32, String, String) {
        try await OffPool.run {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            let out = Pipe()
            let err = Pipe()
            process.standardOutput = out
            process.standardError = err
            let stdin = Pipe()
            process.standardInput = stdin
            try process.run()
            if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
            try stdin.fileHandleForWriting.close()
            let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus, stdout, stderr)
        }
    }

    @Test("define and start through the CLI, kill -9 virtkitd, a new virtkitd re-attaches and stops the guest")
    func reattachAfterKill() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let (first, client) = try await Self.startDaemon(harness)
        var daemons = [first]
        defer { for daemon in daemons { daemon.send(signal: SIGKILL) } }
        let uuid = UUID().uuidString.lowercased()
        let file = harness.root.appending("guest.xml").string
        try AtomicFile.write(harness.domainXML(name: "survivor", uuid: uuid), to: FilePath(file))

        let defined = try await Self.cli(harness, ["define", file])
        #expect(defined.0 == 0 && defined.1 == "Domain 'survivor' defined from \(file)\n\n", "\(defined)")
        let started = try await Self.cli(harness, ["start", "survivor"])
        #expect(started.0 == 0 && started.1 == "Domain 'survivor' started\n\n", "\(started)")
        let listed = try await Self.cli(harness, ["list"])
        #expect(listed.1.contains(" 1    survivor   running"), "\(listed.1)")
        let qemu = try #require(try await client.info("survivor").pid)

        // kill -9 of the daemon: QEMU runs on, in its own session.
        kill(first.pid, SIGKILL)
        _ = await ProcessExitWatcher.waitForExit(first)
        #expect(ProcessIdentity.of(pid: qemu) != nil)

        let (second, client2) = try await Self.startDaemon(harness)
        daemons.append(second)
        let state = try await client2.state("survivor")
        #expect(state.state == .running)
        #expect(state.id == 1, "the runtime id survives the restart")
        #expect(try await client2.info("survivor").pid == qemu)
        // The re-attached QMP connection works.
        #expect(try await client2.perform(.suspend, "survivor").state == .paused)
        #expect(try await client2.perform(.resume, "survivor").state == .running)
        let json = try await Self.cli(harness, ["list", "--all", "--format", "json"])
        let summaries = try JSONDecoder().decode([DomainSummary].self, from: Data(json.1.utf8))
        #expect(summaries == [DomainSummary(id: 1, name: "survivor", uuid: uuid, state: .running, reason: .booted)])

        let destroyed = try await Self.cli(harness, ["destroy", "survivor"])
        #expect(destroyed.0 == 0 && destroyed.1 == "Domain 'survivor' destroyed\n\n", "\(destroyed)")
        #expect(ProcessIdentity.of(pid: qemu) == nil)
        #expect(GuestHarness.processes(mentioning: uuid).isEmpty)
        #expect(harness.leftovers().isEmpty, "left: \(harness.leftovers())")
        let domstate = try await Self.cli(harness, ["domstate", "--reason", "survivor"])
        #expect(domstate.1 == "shut off (destroyed)\n")

        // Errors come back with the daemon's words and exit 1.
        let missing = try await Self.cli(harness, ["start", "nope"])
        #expect(missing.0 == 1 && missing.2 == "error: Domain not found: no domain with matching name 'nope'\n", "\(missing)")

        // SIGTERM stops the daemon gracefully and removes its socket.
        second.send(signal: SIGTERM)
        _ = await ProcessExitWatcher.waitForExit(second)
        #expect(access(harness.layout.socketPath.string, F_OK) != 0)
    }

    @Test("a guest that ignores the power button is taken down the ladder after the timeout")
    func shutdownLadder() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let (daemon, client) = try await Self.startDaemon(harness)
        defer { daemon.send(signal: SIGKILL) }
        let uuid = UUID().uuidString.lowercased()
        _ = try await client.define(xml: harness.domainXML(name: "stubborn", uuid: uuid))
        // Paused CPUs cannot answer ACPI.
        _ = try await client.start("stubborn", paused: true)
        let clock = ContinuousClock()
        let begin = clock.now
        let file = try await Self.cli(harness, ["shutdown", "stubborn", "--timeout", "1"])
        let elapsed = clock.now - begin
        #expect(file.0 == 0, "\(file)")
        #expect(file.1.contains("Domain 'stubborn' is being shutdown"))
        #expect(file.1.contains("Domain 'stubborn' is shut off (shutdown)"), "\(file.1)")
        #expect(file.2.contains("waiting for 'stubborn' to power off"), "progress on stderr: \(file.2)")
        #expect(elapsed >= .seconds(1) && elapsed < .seconds(15))
        #expect(GuestHarness.processes(mentioning: uuid).isEmpty)
        #expect(harness.leftovers().isEmpty, "left: \(harness.leftovers())")
    }

    @Test("a second virtkitd on the same run directory is refused")
    func oneDaemonPerDirectory() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let (daemon, _) = try await Self.startDaemon(harness)
        defer { daemon.send(signal: SIGKILL) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Self.binary("virtkitd"))
        process.arguments = ["--run-dir", harness.layout.runDirectory.string, "--state-dir", harness.layout.stateDirectory.string]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = err
        try process.run()
        let output = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus != 0)
        #expect(output.contains("another virtkitd already runs"), "\(output)")
        #expect(daemon.isAlive)
    }

    @Test("a body that is not UTF-8 is refused, not stored with replacement characters")
    func invalidUTF8IsRefused() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let (daemon, client) = try await Self.startDaemon(harness)
        defer { daemon.send(signal: SIGKILL) }
        let xml = Array(harness.domainXML(name: "utf").utf8)
        let nameStart = try #require(xml.firstRange(of: Array("<name>utf".utf8))).upperBound
        var bad = xml
        bad.insert(0xFF, at: nameStart)
        guard case .answered(let answer) = try client.connection.send(method: "POST", path: "/v1/domains", body: bad,
                                                                      contentType: "application/xml") else {
            Issue.record("virtkitd did not answer")
            return
        }
        #expect(answer.status == 400)
        #expect(String(decoding: answer.body, as: UTF8.self).contains("not proper UTF-8"))
        #expect(try client.list(all: true).isEmpty)
    }

    @Test("kill -9 of virtkitd at any moment of a start: the next virtkitd finishes or undoes it, never two QEMUs")
    func killDuringStart() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        var (daemon, client) = try await Self.startDaemon(harness)
        defer { daemon.send(signal: SIGKILL) }
        let uuid = UUID().uuidString.lowercased()
        _ = try client.define(xml: harness.domainXML(name: "k9", uuid: uuid))
        // From before the request reaches the daemon to after the start is done.
        for delay in [0, 3, 8, 15, 25, 40, 60, 90, 140, 250] {
            let starting = client
            let start = Task.detached { try? starting.start("k9", paused: false) }
            try await Task.sleep(for: .milliseconds(delay))
            daemon.send(signal: SIGKILL)
            _ = await ProcessExitWatcher.waitForExit(daemon)
            _ = await start.value
            (daemon, client) = try await Self.startDaemon(harness)
            let qemus = GuestHarness.processes(mentioning: uuid)
            let state = try client.state("k9")
            #expect(qemus.count <= 1, "after \(delay) ms: \(qemus.count) QEMUs")
            switch state.state {
            case .running:
                #expect(qemus.count == 1, "after \(delay) ms: running without its QEMU")
                _ = try client.perform(.destroy, "k9")
            case .shutoff:
                #expect(qemus.isEmpty, "after \(delay) ms: shut off, but a QEMU runs")
            default:
                Issue.record("after \(delay) ms: the domain is \(state.state) (\(state.reason))")
                _ = try? client.perform(.destroy, "k9")
            }
            #expect(GuestHarness.processes(mentioning: uuid).isEmpty)
            #expect(harness.leftovers().isEmpty, "after \(delay) ms, left: \(harness.leftovers())")
        }
    }

    @Test("kill -9 of virtkitd during a shutdown: the next virtkitd goes on with the ladder and its deadline")
    func killDuringShutdown() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        var (daemon, client) = try await Self.startDaemon(harness)
        defer { daemon.send(signal: SIGKILL) }
        let uuid = UUID().uuidString.lowercased()
        _ = try client.define(xml: harness.domainXML(name: "midstop", uuid: uuid))
        // Paused CPUs cannot answer ACPI: only the ladder takes this guest down.
        try client.start("midstop", paused: true)
        let clock = ContinuousClock()
        let begin = clock.now
        // A deadline longer than a daemon's restart under a loaded CI run (more than 2 s seen, and
        // then the new daemon had already finished the ladder when it was first asked).
        _ = try client.shutdown("midstop", ShutdownRequest(mode: .acpi, timeoutSeconds: 10, wait: false))
        daemon.send(signal: SIGKILL)
        _ = await ProcessExitWatcher.waitForExit(daemon)
        #expect(GuestHarness.processes(mentioning: uuid).count == 1, "QEMU outlives the daemon")
        (daemon, client) = try await Self.startDaemon(harness)
        #expect(try client.state("midstop").state == .inShutdown)
        var state = try client.state("midstop")
        while state.state != .shutoff, clock.now - begin < .seconds(60) {
            try await Task.sleep(for: .milliseconds(100))
            state = try client.state("midstop")
        }
        #expect(state.state == .shutoff && state.reason == .shutdown, "\(state)")
        #expect(clock.now - begin >= .seconds(10), "the deadline was kept")
        #expect(GuestHarness.processes(mentioning: uuid).isEmpty)
        #expect(harness.leftovers().isEmpty, "left: \(harness.leftovers())")
    }

    /// A raw connection to the daemon's API socket.
    static func rawConnection(_ harness: GuestHarness) throws -> FileDescriptor {
        try UnixSocket.connect(to: harness.layout.socketPath)
    }

    /// Whether the daemon closes `socket` within `wait` (reads until the end, with a deadline).
    static func closedByDaemon(_ socket: FileDescriptor, within wait: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + wait
        var buffer = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline {
            var poller = pollfd(fd: socket.rawValue, events: Int16(POLLIN), revents: 0)
            if poll(&poller, 1, 100) > 0 {
                let n = read(socket.rawValue, &buffer, buffer.count)
                if n <= 0 { return true }
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    @Test("the API closes silent clients, limits connections per user, and serves only its users")
    func apiHoldsItsGround() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let member = try LocalUser.ensure("vktest-monmember", groups: ["vktest-mongroup"])
        let stranger = try LocalUser.ensure("vktest-monitor")
        let (daemon, client) = try await Self.startDaemon(harness, options: [
            "--idle-timeout", "1", "--connections-per-user", "4", "--socket-group", "vktest-mongroup",
        ])
        defer { daemon.send(signal: SIGKILL) }
        // A silent connection is closed after the idle timeout; the daemon goes on serving.
        let silent = try Self.rawConnection(harness)
        defer { try? silent.close() }
        #expect(try await Self.closedByDaemon(silent, within: .seconds(5)))
        _ = try client.version()

        // The file modes let the group in (and, opened wide here, anyone): the daemon itself
        // refuses a user outside the group, and holds a member to its limit.
        for directory in [harness.root, harness.layout.runDirectory] { chmod(directory.string, 0o711) }
        chmod(harness.layout.socketPath.string, 0o666)
        let script = """
            import socket, sys
            def ask(s):
                try:
                    s.sendall(b'GET /v1/version HTTP/1.1\\r\\nHost: v\\r\\n\\r\\n')
                    return s.recv(4096).decode('utf-8', 'replace').split('\\r\\n')[0] or 'closed'
                except (ConnectionResetError, BrokenPipeError):
                    return 'closed'
            conns = []
            for _ in range(int(sys.argv[2])):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(10)
                s.connect(sys.argv[1])
                conns.append(s)
            print(','.join(ask(s) for s in reversed(conns)))
            """
        let socketPath = harness.layout.socketPath.string
        let refused = try await OffPool.run { try stranger.run(["python3", "-c", script, socketPath, "1"]) }
        #expect(refused.output == "closed\n", "\(refused)")
        let limited = try await OffPool.run { try member.run(["python3", "-c", script, socketPath, "5"]) }
        // Four served and one refused; which one is refused depends on the order in which the
        // kernel's word on each peer comes back, not on the order of connecting.
        let answers = limited.output.trimmingCharacters(in: .newlines).split(separator: ",")
        #expect(answers.filter { $0 == "closed" }.count == 1 && answers.filter { $0 == "HTTP/1.1 200 OK" }.count == 4, "\(limited)")
        let log = String(decoding: AtomicFile.read(harness.root.appending("virtkitd.out")) ?? [], as: UTF8.self)
        #expect(log.contains("uid \(stranger.uid) may not use this virtkitd"))
        #expect(log.contains("uid \(member.uid) has 4 connections open already"))
    }
}
