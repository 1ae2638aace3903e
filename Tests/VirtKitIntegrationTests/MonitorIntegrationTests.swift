import Foundation
import SystemPackage
import Testing
import VirtKitTestSupport
import VirtKitAPI
import VirtKitClient
import VirtKitHost
@testable import VirtKitRuntime
#if canImport(Glibc)
import Glibc
#endif

/// Monitor redirection as users meet it: ports from monitor.conf, skipped when taken, kept across
/// a daemon restart and released at stop; the CLI's monitor verbs; `quit` recorded as a destroy.
@Suite("Monitor channels of running guests", .tags(.qemu), .serialized)
struct MonitorIntegrationTests {
    /// A base port unlikely to collide with another test run: 10000-29500 in steps of 300, below
    /// Linux's ephemeral range (32768-60999), where any client socket on the machine may hold a
    /// port for a moment: a CI run once saw base + 2 taken there, and the guest rightly skipped it.
    /// Also below virtkitd's default base (30320) that other tests' daemons count up from.
    static func basePort() -> Int { 10_000 + 300 * Int.random(in: 0..<66) }

    /// A listener on 127.0.0.1:`port` (a port "taken by another listener").
    static func occupy(_ port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        // As a real listener binds (and VirtKit does): connections in TIME_WAIT don't block it,
        // a listener does.
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0, listen(fd, 4) == 0 else { close(fd); throw HarnessError("cannot occupy port \(port)") }
        return fd
    }

    /// One line-oriented exchange over TCP 127.0.0.1:`port`: sends `text`, reads until `marker`.
    static func tcpExchange(port: Int, send text: String, until marker: String) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { throw HarnessError("cannot connect to 127.0.0.1:\(port)") }
        _ = Array(text.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, !String(decoding: received, as: UTF8.self).contains(marker) {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 500) > 0 else { continue }
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            received += buffer[0..<n]
        }
        return String(decoding: received, as: UTF8.self)
    }

    @Test("ports count up from monitor.conf's base, skip taken ones, CTLPORT = MONPORT + 100, and are released at stop")
    func portScheme() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let base = Self.basePort()
        let squatter = try Self.occupy(base)
        defer { close(squatter) }
        let hypervisor = Hypervisor(layout: harness.layout, logger: harness.logger, accelerators: harness.probe(),
                                    monitorSettings: MonitorSettings(basePort: base, tcp: true))
        try await hypervisor.load()
        _ = try await hypervisor.define(xml: harness.domainXML(name: "first"))
        _ = try await hypervisor.define(xml: harness.domainXML(name: "second"))
        _ = try await hypervisor.start(name: "first", paused: true)
        _ = try await hypervisor.start(name: "second", paused: true)
        let first = try await hypervisor.monitorInfo(name: "first")
        let second = try await hypervisor.monitorInfo(name: "second")
        #expect(first.monitorPort == base + 1, "base \(base) is taken: \(first)")
        #expect(first.commandPort == base + 101)
        #expect(second.monitorPort == base + 2, "\(second)")
        #expect(second.commandPort == base + 102)
        #expect(first.tcpAddresses.contains("127.0.0.1"))
        #expect(first.interactiveSocket?.hasPrefix(harness.layout.guestsDirectory.string) == true)

        // HMP over TCP, and over the UNIX command socket.
        let hmp = try Self.tcpExchange(port: base + 1, send: "info status\n", until: "VM status")
        #expect(hmp.contains("QEMU 7.2"), "banner: \(hmp)")
        #expect(hmp.contains("VM status: paused"), "\(hmp)")
        let command = try Self.tcpExchange(port: base + 101, send: "{\"execute\":\"query-name\"}\n", until: "}")
        #expect(command.contains("\"name\": \"first\"") || command.contains("\"name\":\"first\""), "\(command)")

        // Only the guest's owner is served over TCP, and not even the owner may make QEMU write
        // host files unless monitor.conf allows it.
        let stranger = try LocalUser.ensure("vktest-monitor")
        let refused = try stranger.tcpExchange(host: "127.0.0.1", port: base + 101, send: "info status\n")
        #expect(refused.hasPrefix("error: access denied: uid \(stranger.uid) may not use the monitor of guest 'first'"), "\(refused)")
        let dump = harness.root.appending("memory.dump").string
        let pmemsave = try Self.tcpExchange(port: base + 101, send: "pmemsave 0 4096 \(dump)\n", until: "\n")
        #expect(pmemsave.hasPrefix("pmemsave refused: it writes guest memory to a file on the host"), "\(pmemsave)")
        #expect(!FileManager.default.fileExists(atPath: dump))

        _ = try await hypervisor.destroy(name: "first")
        _ = try await hypervisor.destroy(name: "second")
        // Released: the ports can be bound again, the sockets and run directories are gone.
        for port in [base + 1, base + 101, base + 2, base + 102] { close(try Self.occupy(port)) }
        #expect(harness.leftovers().isEmpty, "left: \(harness.leftovers())")
    }

    @Test("monitor.conf tcp = no and per-guest metadata: UNIX only, or a fixed port; a bad setting is refused")
    func settings() async throws {
        #expect(try MonitorSettings.parse("# c\nbase_port = 31000\ntcp = no\n", file: "m.conf") == MonitorSettings(basePort: 31000, tcp: false))
        #expect(try MonitorSettings.parse("allow_host_access = yes\n", file: "m.conf") == MonitorSettings(allowHostAccess: true))
        #expect(MonitorSettings().allowHostAccess == false)
        let bad = #expect(throws: RuntimeError.self) { try MonitorSettings.parse("base_port = 70000\n", file: "m.conf") }
        #expect(bad?.message == "m.conf:1: base_port must be a port from 1 to 65435, got '70000'")
        let unknown = #expect(throws: RuntimeError.self) { try MonitorSettings.parse("\nport=1\n", file: "m.conf") }
        #expect(unknown?.message.hasPrefix("m.conf:2: unknown setting 'port'") == true)

        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let hypervisor = Hypervisor(layout: harness.layout, logger: harness.logger, accelerators: harness.probe(),
                                    monitorSettings: MonitorSettings(basePort: Self.basePort(), tcp: false))
        try await hypervisor.load()
        _ = try await hypervisor.define(xml: harness.domainXML(name: "unixonly"))
        _ = try await hypervisor.start(name: "unixonly", paused: true)
        let unixOnly = try await hypervisor.monitorInfo(name: "unixonly")
        #expect(unixOnly.monitorPort == nil && unixOnly.commandSocket != nil)
        _ = try await hypervisor.destroy(name: "unixonly")

        let fixed = Self.basePort() + 150
        let metadata = "<metadata><virtkit:monitor xmlns:virtkit='urn:virtkit:domain:1' port='\(fixed)' tcp='yes'/></metadata>"
        let xml = harness.domainXML(name: "pinned").replacingOccurrences(of: "<memory", with: metadata + "<memory")
        _ = try await hypervisor.define(xml: xml)
        _ = try await hypervisor.start(name: "pinned", paused: true)
        #expect(try await hypervisor.monitorInfo(name: "pinned").monitorPort == fixed)
        #expect(try await hypervisor.xml(name: "pinned", inactive: true).contains("urn:virtkit:domain:1"))
        _ = try await hypervisor.destroy(name: "pinned")
        #expect(harness.leftovers().isEmpty)
    }

    @Test("CLI: qemu-monitor-command (HMP and QMP), piped monitor, monitor-ports; quit is a recorded destroy; ports survive a daemon restart")
    func cliAndRestart() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let base = Self.basePort()
        try AtomicFile.makeDirectory(harness.root.appending("etc"))
        try AtomicFile.write("base_port = \(base)\n", to: harness.root.appending("etc/monitor.conf"))
        let (first, client) = try await DaemonProcessTests.startDaemon(harness, configDirectory: harness.root.appending("etc").string)
        var daemons = [first]
        defer { for daemon in daemons { daemon.send(signal: SIGKILL) } }
        let uuid = UUID().uuidString.lowercased()
        _ = try await client.define(xml: harness.domainXML(name: "mon", uuid: uuid))
        _ = try await client.start("mon", paused: false)

        let status = try await DaemonProcessTests.cli(harness, ["qemu-monitor-command", "mon", "--hmp", "info", "status"])
        #expect(status.0 == 0 && status.1.contains("VM status: running"), "\(status)")
        let name = try await DaemonProcessTests.cli(harness, ["qemu-monitor-command", "mon", "{\"execute\":\"query-name\"}"])
        #expect(name.0 == 0 && name.1.contains("\"mon\""), "\(name)")
        let ports = try await DaemonProcessTests.cli(harness, ["monitor-ports", "mon"])
        #expect(ports.1.contains("interactive  tcp:127.0.0.1:\(base)"), "\(ports.1)")
        #expect(ports.1.contains("command      tcp:127.0.0.1:\(base + 100)"), "\(ports.1)")
        let piped = try await DaemonProcessTests.cli(harness, ["monitor", "mon"], input: "info name\n")
        #expect(piped.1.contains("(qemu)") && piped.1.contains("mon"), "\(piped)")

        // kill -9 of the daemon: the next one serves the monitor on the same ports.
        kill(first.pid, SIGKILL)
        _ = await ProcessExitWatcher.waitForExit(first)
        let (second, client2) = try await DaemonProcessTests.startDaemon(harness, configDirectory: harness.root.appending("etc").string)
        daemons.append(second)
        let after = try await client2.monitor("mon")
        #expect(after.monitorPort == base && after.commandPort == base + 100, "\(after)")
        let again = try Self.tcpExchange(port: base, send: "info status\n", until: "VM status")
        #expect(again.contains("VM status: running"), "\(again)")

        // quit through the monitor: VirtKit destroys the guest and records it.
        let quit = try await DaemonProcessTests.cli(harness, ["qemu-monitor-command", "mon", "--hmp", "quit"])
        #expect(quit.0 == 0, "\(quit)")
        var state = try await client2.state("mon")
        for _ in 0..<100 where state.id != nil {
            try await Task.sleep(for: .milliseconds(100))
            state = try await client2.state("mon")
        }
        #expect(state.state == .shutoff && state.reason == .destroyed, "\(state)")
        #expect(GuestHarness.processes(mentioning: uuid).isEmpty)
        #expect(harness.leftovers().isEmpty, "left: \(harness.leftovers())")
        close(try Self.occupy(base))
    }
}
