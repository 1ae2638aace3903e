import Foundation
import SystemPackage
import Testing
import VirtKitTestSupport
import VirtKitAPI
import VirtKitHost
@testable import VirtKitRuntime
#if canImport(Glibc)
import Glibc
#endif

/// Real QEMU (TCG) with the bundled test guest, driven through the hypervisor in-process.
@Suite("Runtime: real guests through the hypervisor", .tags(.qemu), .serialized)
struct GuestLifecycleTests {
    @Test("boot to the ready marker, echo through a pre-opened channel socket and a 200-byte bind path, clean shutdown")
    func bootEchoShutdown() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        var longDirectory = harness.root.appending("long")
        while longDirectory.string.utf8.count < 190 { longDirectory.append("0123456789") }
        try AtomicFile.makeDirectory(longDirectory)
        let longPath = longDirectory.appending("echo-channel.sock").string
        #expect(longPath.utf8.count >= 200)

        let hypervisor = try await harness.hypervisor()
        let uuid = UUID().uuidString.lowercased()
        let xml = harness.domainXML(name: "boot", uuid: uuid, echoPath: longPath)
        _ = try await hypervisor.define(xml: xml)
        let started = try await hypervisor.start(name: "boot", paused: true)
        #expect(started.state == .paused)
        // QEMU drops serial output while nobody is connected: connect before the CPUs run.
        let serial = try SocketReader(connectingTo: harness.serialPath("boot"))
        _ = try await hypervisor.resume(name: "boot")
        #expect(await serial.waitFor("VIRTKIT-GUEST-READY", timeout: 60), "serial so far: \(serial.text)")

        // The shell on ttyS0 answers.
        try serial.send("echo shell-$((6*7))\n")
        #expect(await serial.waitFor("shell-42", timeout: 20))

        // The echo service answers through the socket virtkitd created at a 200-byte path.
        let echo = try SocketReader(connectingTo: longPath)
        try echo.send("hello through the guest\n")
        #expect(await echo.waitFor("ECHO:HELLO THROUGH THE GUEST\n", timeout: 20), "echo got: \(echo.text)")
        var info = stat()
        #expect(lstat(longPath, &info) == 0 && info.st_mode & 0o777 == 0o600)

        // The guest opened its port (VSERPORT_CHANGE); the event may trail the echo a little.
        var domainInfo = try await hypervisor.info(name: "boot")
        for _ in 0..<50 where !domainInfo.channels.contains(ChannelConnection(name: "org.example.echo", connected: true)) {
            try await Task.sleep(for: .milliseconds(100))
            domainInfo = try await hypervisor.info(name: "boot")
        }
        #expect(domainInfo.accelerator == "tcg")
        #expect(domainInfo.channels.contains(ChannelConnection(name: "org.example.echo", connected: true)))

        // The live XML names the generated agent socket; the inactive one does not.
        let live = try await hypervisor.xml(name: "boot", inactive: false)
        let inactive = try await hypervisor.xml(name: "boot", inactive: true)
        #expect(live.contains("id='\(started.id ?? -1)'"))
        let generated = harness.layout.guestDirectory(id: started.id ?? -1, name: "boot").string + "/org.qemu.guest_agent.0"
        #expect(live.contains("<source mode='bind' path='\(generated)'/>"))
        #expect(!inactive.contains(harness.layout.guestsDirectory.string))
        #expect(live.contains("state='connected'"), "the echo service holds its port open")

        // ACPI shutdown: the guest powers off within the timeout; nothing is left.
        let clock = ContinuousClock()
        let begin = clock.now
        let stopped = try await hypervisor.shutdown(name: "boot", options: ShutdownRequest(timeoutSeconds: 30, wait: true))
        #expect(clock.now - begin < .seconds(30), "powered off by the guest, not by the ladder")
        #expect(stopped.state == .shutoff)
        #expect(stopped.reason == .shutdown)
        #expect(harness.leftovers().isEmpty, "left: \(harness.leftovers())")
        #expect(access(longPath, F_OK) != 0, "the socket VirtKit created is removed")
        #expect(GuestHarness.processes(mentioning: uuid).isEmpty)
    }

    @Test("kill -9 of QEMU is noticed: the domain is marked crashed and its files are cleaned up")
    func qemuKilled() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let hypervisor = try await harness.hypervisor()
        let uuid = UUID().uuidString.lowercased()
        _ = try await hypervisor.define(xml: harness.domainXML(name: "victim", uuid: uuid))
        _ = try await hypervisor.start(name: "victim", paused: false)
        let info = try await hypervisor.info(name: "victim")
        let pid = try #require(info.pid)
        kill(pid, SIGKILL)
        var state = try await hypervisor.state(name: "victim")
        for _ in 0..<100 where state.id != nil {
            try await Task.sleep(for: .milliseconds(50))
            state = try await hypervisor.state(name: "victim")
        }
        #expect(state.state == .crashed)
        #expect(state.reason == .crashed)
        #expect(harness.leftovers().isEmpty, "left: \(harness.leftovers())")
        #expect(GuestHarness.processes(mentioning: uuid).isEmpty)
        // It can start again after a crash.
        _ = try await hypervisor.start(name: "victim", paused: true)
        let destroyed = try await hypervisor.destroy(name: "victim")
        #expect(destroyed.state == .shutoff)
        #expect(destroyed.reason == .destroyed)
        #expect(harness.leftovers().isEmpty)
    }

    @Test("suspend and resume follow QMP; destroy of a paused guest leaves nothing")
    func suspendResumeDestroy() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let hypervisor = try await harness.hypervisor()
        let uuid = UUID().uuidString.lowercased()
        _ = try await hypervisor.define(xml: harness.domainXML(name: "pause", uuid: uuid))
        _ = try await hypervisor.start(name: "pause", paused: false)
        #expect(try await hypervisor.suspend(name: "pause").state == .paused)
        #expect(try await hypervisor.resume(name: "pause").state == .running)
        await #expect(throws: RuntimeError.self) { try await hypervisor.start(name: "pause", paused: false) }
        _ = try await hypervisor.suspend(name: "pause")
        #expect(try await hypervisor.destroy(name: "pause").state == .shutoff)
        #expect(harness.leftovers().isEmpty)
        #expect(GuestHarness.processes(mentioning: uuid).isEmpty)
    }
}

@Suite("Runtime: socket permissions", .tags(.qemu), .serialized)
struct SocketPermissionTests {
    @Test("sockets VirtKit creates are 0600, or 0660 and the group's with --socket-group; the monitor stays private")
    func socketGroup() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let group = try #require(getgrnam("nogroup") ?? getgrnam("daemon")).pointee.gr_gid
        let hypervisor = Hypervisor(layout: harness.layout, logger: harness.logger, accelerators: harness.probe(),
                                    socketGroup: group)
        try await hypervisor.load()
        let echo = harness.root.appending("shared-echo.sock").string
        _ = try await hypervisor.define(xml: harness.domainXML(name: "grouped", echoPath: echo))
        let started = try await hypervisor.start(name: "grouped", paused: true)
        let directory = harness.layout.guestDirectory(id: started.id ?? -1, name: "grouped").string
        func mode(_ path: String) -> (mode: UInt32, group: gid_t)? {
            var info = stat()
            guard lstat(path, &info) == 0 else { return nil }
            return (UInt32(info.st_mode & 0o777), info.st_gid)
        }
        #expect(mode(echo)?.mode == 0o660 && mode(echo)?.group == group, "\(String(describing: mode(echo)))")
        #expect(mode(harness.serialPath("grouped"))?.mode == 0o660)
        #expect(mode(directory + "/org.qemu.guest_agent.0")?.group == group)
        #expect(mode(directory + "/monitor.sock")?.mode == 0o600, "QMP stays virtkitd's alone")
        _ = try await hypervisor.destroy(name: "grouped")
        #expect(harness.leftovers().isEmpty)
    }
}
