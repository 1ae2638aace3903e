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

/// The QEMU guest agent (qemu-ga 7.2 in the test guest) through virtkitd's broker: commands,
/// libvirt's errors for an agent that is not connected, not configured or not answering, and
/// a shutdown through the agent. In-process through the hypervisor, and through the real
/// `virtkitd` and `virtkit` binaries.
@Suite("Runtime: the guest agent of a real guest", .tags(.qemu), .serialized)
struct GuestAgentIntegrationTests {
    static let notConnected = "Guest agent is not responding: QEMU guest agent is not connected"
    static let timedOut = "Guest agent is not responding: Guest agent not available for now"
    static let notConfigured = "argument unsupported: QEMU guest agent is not configured"

    @Test("not connected while paused from the start; ping, info, osinfo; a frozen guest times out and answers after resume; shutdown through the agent")
    func agentThroughHypervisor() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let hypervisor = try await harness.hypervisor()
        let uuid = UUID().uuidString.lowercased()
        _ = try await hypervisor.define(xml: harness.domainXML(name: "agent", uuid: uuid))
        _ = try await hypervisor.start(name: "agent", paused: true)

        // The CPUs never ran: qemu-ga has not opened its port. libvirt's "not connected", not a
        // timeout (whose message differs): nothing was sent into the closed port.
        let early = await Self.agentError(hypervisor, "agent", #"{"execute":"guest-ping"}"#)
        #expect(early == RuntimeError(.agentUnresponsive, Self.notConnected), "\(String(describing: early))")
        await #expect(throws: RuntimeError(.agentUnresponsive, Self.notConnected)) {
            try await hypervisor.shutdown(name: "agent", options: ShutdownRequest(mode: .agent, timeoutSeconds: 30, wait: true))
        }
        #expect(try await hypervisor.state(name: "agent").state == .paused, "a refused agent shutdown changes nothing")

        let serial = try SocketReader(connectingTo: harness.serialPath("agent"))
        _ = try await hypervisor.resume(name: "agent")
        #expect(await serial.waitFor("VIRTKIT-GUEST-READY", timeout: 120), "serial so far: \(serial.text)")
        try await Self.waitForAgentPort { try await hypervisor.info(name: "agent") }

        let ping = try await Self.reply(hypervisor, "agent", #"{"execute":"guest-ping"}"#)
        #expect(ping["return"] as? [String: Any] != nil && (ping["return"] as? [String: Any])?.isEmpty == true, "\(ping)")
        let info = try #require(try await Self.reply(hypervisor, "agent", #"{"execute":"guest-info"}"#)["return"] as? [String: Any])
        #expect((info["version"] as? String)?.hasPrefix("7.") == true, "qemu-ga 7.2: \(info)")
        let commands = (info["supported_commands"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(commands.contains("guest-shutdown") && commands.contains("guest-get-osinfo"), "\(commands)")
        let os = try #require(try await Self.reply(hypervisor, "agent", #"{"execute":"guest-get-osinfo"}"#)["return"] as? [String: Any])
        #expect(os["id"] as? String == "virtkit-guest", "from the guest's /etc/os-release: \(os)")
        #expect(os["machine"] as? String == "x86_64")
        #expect((os["kernel-release"] as? String)?.isEmpty == false, "\(os)")

        // A frozen guest (QMP stop) keeps its port open but cannot answer: the call gives up
        // after its timeout with libvirt's message, having waited it.
        _ = try await hypervisor.suspend(name: "agent")
        let clock = ContinuousClock()
        let begin = clock.now
        let frozen = await Self.agentError(hypervisor, "agent", #"{"execute":"guest-ping"}"#, timeout: 1)
        #expect(clock.now - begin >= .milliseconds(900), "the agent was waited for")
        #expect(frozen == RuntimeError(.agentUnresponsive, Self.timedOut), "\(String(describing: frozen))")
        // After resume the late reply to that ping is dropped by the resync: guest-info gets
        // its own reply, not the stale `{"return":{}}`.
        _ = try await hypervisor.resume(name: "agent")
        let after = try await Self.reply(hypervisor, "agent", #"{"execute":"guest-info"}"#, timeout: 60)
        #expect((after["return"] as? [String: Any])?["version"] is String, "\(after)")
        #expect(try await Self.reply(hypervisor, "agent", #"{"execute":"guest-ping"}"#, timeout: 60)["return"] != nil)

        // guest-shutdown: qemu-ga runs the guest's /sbin/shutdown, which says so on the console,
        // and the guest powers off by itself (a shutdown, not a crash or the ladder's destroy).
        let stopped = try await hypervisor.shutdown(name: "agent",
                                                    options: ShutdownOptions(mode: .agent, timeoutSeconds: 30, wait: true))
        #expect(stopped.state == .shutoff)
        #expect(stopped.reason == .shutdown)
        #expect(await serial.waitFor("virtkit-guest: poweroff", timeout: 10), "serial: \(serial.text)")
        #expect(harness.leftovers().isEmpty, "left: \(harness.leftovers())")
        #expect(GuestHarness.processes(mentioning: uuid).isEmpty)
        let gone = await Self.agentError(hypervisor, "agent", #"{"execute":"guest-ping"}"#)
        #expect(gone?.code == .operationInvalid, "not running: \(String(describing: gone))")
    }

    @Test("a domain without an agent channel: argument unsupported, for commands and for shutdown --mode agent")
    func noAgentChannel() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let hypervisor = try await harness.hypervisor()
        let uuid = UUID().uuidString.lowercased()
        let xml = harness.domainXML(name: "noagent", uuid: uuid).replacingOccurrences(
            of: "name='org.qemu.guest_agent.0'", with: "name='org.example.spare'")
        #expect(!xml.contains("guest_agent"))
        _ = try await hypervisor.define(xml: xml)
        _ = try await hypervisor.start(name: "noagent", paused: true)
        let error = await Self.agentError(hypervisor, "noagent", #"{"execute":"guest-ping"}"#)
        #expect(error == RuntimeError(.argumentUnsupported, Self.notConfigured), "\(String(describing: error))")
        await #expect(throws: RuntimeError(.argumentUnsupported, Self.notConfigured)) {
            try await hypervisor.shutdown(name: "noagent", options: ShutdownRequest(mode: .agent, timeoutSeconds: 30, wait: true))
        }
        #expect(try await hypervisor.state(name: "noagent").state == .paused)
        #expect(try await hypervisor.destroy(name: "noagent").state == .shutoff)
        #expect(harness.leftovers().isEmpty, "left: \(harness.leftovers())")
        #expect(GuestHarness.processes(mentioning: uuid).isEmpty)
    }

    @Test("virtkit qemu-agent-command and guest-agent against a real virtkitd: replies printed, libvirt's errors on stderr, shutdown --mode agent")
    func agentThroughCLI() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let (daemon, client) = try await DaemonProcessTests.startDaemon(harness)
        defer { daemon.send(signal: SIGKILL) }
        let uuid = UUID().uuidString.lowercased()
        _ = try await client.define(xml: harness.domainXML(name: "agentcli", uuid: uuid))
        _ = try await client.start("agentcli", paused: true)
        let ping = #"{"execute":"guest-ping"}"#

        let early = try await DaemonProcessTests.cli(harness, ["qemu-agent-command", "agentcli", ping])
        #expect(early.0 == 1 && early.1.isEmpty && early.2 == "error: \(Self.notConnected)\n", "\(early)")

        _ = try await client.perform(.resume, "agentcli")
        try await Self.waitForAgentPort { try await client.info("agentcli") }

        let pinged = try await DaemonProcessTests.cli(harness, ["qemu-agent-command", "agentcli", ping])
        #expect(pinged.0 == 0 && pinged.1 == "{\"return\":{}}\n", "printed as the agent sent it: \(pinged)")
        let info = try await DaemonProcessTests.cli(harness, ["qemu-agent-command", "agentcli", #"{"execute":"guest-info"}"#])
        #expect(info.0 == 0 && info.1.hasSuffix("}\n") && !info.1.dropLast().contains("\n"), "one line: \(info)")
        let infoReturn = try Self.object(info.1)["return"] as? [String: Any]
        #expect(infoReturn?["version"] is String, "\(info)")
        let pretty = try await DaemonProcessTests.cli(harness, ["qemu-agent-command", "agentcli", "--pretty", #"{"execute":"guest-get-osinfo"}"#])
        #expect(pretty.0 == 0 && pretty.1.contains("\n    \"id\": \"virtkit-guest\""), "indented: \(pretty)")
        #expect((try Self.object(pretty.1)["return"] as? [String: Any])?["machine"] as? String == "x86_64", "\(pretty)")
        let hostname = try await DaemonProcessTests.cli(harness, ["guest-agent", "agentcli", "hostname"])
        #expect(hostname.0 == 0 && hostname.1 == "virtkit-guest\n", "\(hostname)")
        let pingVerb = try await DaemonProcessTests.cli(harness, ["guest-agent", "agentcli", "ping"])
        #expect(pingVerb.0 == 0 && pingVerb.1 == "The guest agent answered.\n", "\(pingVerb)")

        // Frozen: the timeout's message on stderr, exit 1; answers again after resume.
        _ = try await client.perform(.suspend, "agentcli")
        let frozen = try await DaemonProcessTests.cli(harness, ["qemu-agent-command", "agentcli", "--timeout", "1", ping])
        #expect(frozen.0 == 1 && frozen.2 == "error: \(Self.timedOut)\n", "\(frozen)")
        _ = try await client.perform(.resume, "agentcli")
        let again = try await DaemonProcessTests.cli(harness, ["qemu-agent-command", "agentcli", "--timeout", "60", ping])
        #expect(again.0 == 0 && again.1 == "{\"return\":{}}\n", "\(again)")

        let shutdown = try await DaemonProcessTests.cli(harness, ["shutdown", "agentcli", "--mode", "agent", "--timeout", "30"])
        #expect(shutdown.0 == 0, "\(shutdown)")
        #expect(shutdown.1.contains("Domain 'agentcli' is being shutdown"), "\(shutdown.1)")
        #expect(shutdown.1.contains("Domain 'agentcli' is shut off (shutdown)"), "\(shutdown.1)")
        #expect(GuestHarness.processes(mentioning: uuid).isEmpty)
        #expect(harness.leftovers().isEmpty, "left: \(harness.leftovers())")
        // The serial console's log shows the guest's /sbin/shutdown, which qemu-ga ran.
        let console = String(decoding: try await client.log("agentcli", device: "serial0", all: true), as: UTF8.self)
        #expect(console.contains("virtkit-guest: poweroff"), "the agent powered the guest off: \(console)")
    }

    // MARK: Helpers

    /// Waits until a program in the guest holds the agent's port open (qemu-ga starts during
    /// boot, VSERPORT_CHANGE may trail the ready line).
    static func waitForAgentPort(_ info: () async throws -> DomainInfo) async throws {
        let open = ChannelConnection(name: "org.qemu.guest_agent.0", connected: true)
        var channels = try await info().channels
        for _ in 0..<600 where !channels.contains(open) {
            try await Task.sleep(for: .milliseconds(100))
            channels = try await info().channels
        }
        try #require(channels.contains(open), "qemu-ga did not open its port: \(channels)")
    }

    /// The agent's reply to `json`, as a JSON object.
    static func reply(_ hypervisor: Hypervisor, _ name: String, _ json: String, timeout: Int = -1) async throws -> [String: Any] {
        try object(try await hypervisor.agentCommand(name: name, command: json, timeout: timeout))
    }

    /// The error of an agent command, nil when it succeeded.
    static func agentError(_ hypervisor: Hypervisor, _ name: String, _ json: String, timeout: Int = -1) async -> RuntimeError? {
        do {
            _ = try await hypervisor.agentCommand(name: name, command: json, timeout: timeout)
            return nil
        } catch {
            return error
        }
    }

    static func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not a JSON object: \(text)")
    }
}
