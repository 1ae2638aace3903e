import Foundation
import SystemPackage
import Testing
import VirtKitAPI
import VirtKitHost
import VirtKitTestSupport

/// libvirt's own clients against a real virtkitd and the test guest: virsh and python3-libvirt
/// (Debian's 9.0) over `qemu+unix:///session?socket=RUN/libvirt-sock`.
@Suite("libvirt's clients drive virtkitd", .tags(.qemu), .serialized)
struct LibvirtProtocolTests {
    static func uri(_ harness: GuestHarness) -> String {
        "qemu+unix:///session?socket=" + harness.layout.runDirectory.appending("libvirt-sock").string
    }

    static func virsh(_ harness: GuestHarness, _ arguments: [String]) async throws -> (Int32, String, String) {
        try await DaemonProcessTests.run("/usr/bin/virsh", ["-c", uri(harness)] + arguments)
    }

    static func defineFile(_ harness: GuestHarness, _ name: String) throws -> String {
        let path = harness.root.appending("\(name).xml").string
        try harness.domainXML(name: name).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The read-only console socket of `name`'s serial: watching it holds no pen.
    static func serialWatcher(_ harness: GuestHarness, _ name: String) -> String {
        harness.layout.runDirectory.appending("by-name/\(name)/console/serial0.ro").string
    }

    @Test("virsh: define, list, dominfo, dumpxml, start --paused, resume, suspend, monitor and agent commands, shutdown, destroy, undefine")
    func virshVerbs() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let (daemon, _) = try await DaemonProcessTests.startDaemon(harness)
        defer { daemon.send(signal: SIGKILL) }
        let file = try Self.defineFile(harness, "lv")
        let defined = try await Self.virsh(harness, ["define", file])
        #expect(defined.0 == 0 && defined.1.contains("Domain 'lv' defined from \(file)"), "\(defined)")
        let list = try await Self.virsh(harness, ["list", "--all"])
        #expect(list.1.contains(" -    lv     shut off"), "\(list)")
        let info = try await Self.virsh(harness, ["dominfo", "lv"])
        #expect(info.1.contains("State:          shut off") && info.1.contains("Persistent:     yes")
                && info.1.contains("Max memory:     131072 KiB"), "\(info)")
        #expect(try await Self.virsh(harness, ["dumpxml", "--inactive", "lv"]).1.contains("<name>lv</name>"))
        let started = try await Self.virsh(harness, ["start", "--paused", "lv"])
        #expect(started.0 == 0 && started.1.contains("Domain 'lv' started"), "\(started)")
        #expect(try await Self.virsh(harness, ["domstate", "--reason", "lv"]).1.hasPrefix("paused (user)"))
        #expect(try await Self.virsh(harness, ["start", "lv"]).2.contains("error: Domain is already active"))
        _ = try await Self.virsh(harness, ["resume", "lv"])
        let watcher = try SocketReader(connectingTo: Self.serialWatcher(harness, "lv"))
        #expect(await watcher.waitFor("VIRTKIT-GUEST-READY", timeout: 120), "\(watcher.text.suffix(500))")
        #expect(try await Self.virsh(harness, ["domstate", "lv"]).1.hasPrefix("running"))
        let qmp = try await Self.virsh(harness, ["qemu-monitor-command", "lv", #"{"execute":"query-status"}"#])
        #expect(qmp.1.contains(#""running":true"#), "\(qmp)")
        let hmp = try await Self.virsh(harness, ["qemu-monitor-command", "lv", "--hmp", "info status"])
        #expect(hmp.1.contains("VM status: running"), "\(hmp)")
        // The guest's agent connects a moment after its ready line; until then libvirt's answer
        // is "Guest agent is not responding".
        var agent = try await Self.virsh(harness, ["qemu-agent-command", "lv", #"{"execute":"guest-ping"}"#])
        for _ in 0..<60 where agent.2.contains("Guest agent is not responding") {
            try await Task.sleep(for: .milliseconds(500))
            agent = try await Self.virsh(harness, ["qemu-agent-command", "lv", #"{"execute":"guest-ping"}"#])
        }
        #expect(agent.1.contains(#"{"return":{}}"#), "\(agent)")
        // A reboot through the agent: the guest restarts itself (its ready line again).
        let rebooted = try await Self.virsh(harness, ["reboot", "--mode", "agent", "lv"])
        #expect(rebooted.1.contains("Domain 'lv' is being rebooted"), "\(rebooted)")
        #expect(await watcher.waitFor("virtkit-guest: reboot", timeout: 60), "the agent ran the guest's reboot")
        #expect(await watcher.waitFor("VIRTKIT-GUEST-READY", timeout: 120), "the guest booted again after the agent's reboot")
        // The reset button: the guest boots again (its ready line a second time).
        #expect(try await Self.virsh(harness, ["reset", "lv"]).1.contains("Domain 'lv' was reset"))
        #expect(await watcher.waitFor("VIRTKIT-GUEST-READY", timeout: 120), "the guest booted again after the reset")
        _ = try await Self.virsh(harness, ["suspend", "lv"])
        #expect(try await Self.virsh(harness, ["domstate", "lv"]).1.hasPrefix("paused"))
        _ = try await Self.virsh(harness, ["resume", "lv"])
        let shutdown = try await Self.virsh(harness, ["shutdown", "lv"])
        #expect(shutdown.1.contains("Domain 'lv' is being shutdown"), "\(shutdown)")
        var state = ""
        for _ in 0..<120 where !state.hasPrefix("shut off") {
            try await Task.sleep(for: .milliseconds(500))
            state = try await Self.virsh(harness, ["domstate", "--reason", "lv"]).1
        }
        #expect(state.hasPrefix("shut off (shutdown)"), "\(state)")
        _ = try await Self.virsh(harness, ["start", "lv"])
        #expect(try await Self.virsh(harness, ["destroy", "lv"]).1.contains("Domain 'lv' destroyed"))
        #expect(try await Self.virsh(harness, ["domstate", "--reason", "lv"]).1.hasPrefix("shut off (destroyed)"))
        #expect(try await Self.virsh(harness, ["undefine", "lv"]).1.contains("Domain 'lv' has been undefined"))
        // A transient domain: created from its XML, gone once destroyed.
        let transient = try Self.defineFile(harness, "lvt")
        let created = try await Self.virsh(harness, ["create", transient])
        #expect(created.0 == 0 && created.1.contains("Domain 'lvt' created from \(transient)"), "\(created)")
        let dominfo = try await Self.virsh(harness, ["dominfo", "lvt"])
        #expect(dominfo.1.contains("State:          running") && dominfo.1.contains("Persistent:     no"), "\(dominfo)")
        #expect(try await Self.virsh(harness, ["create", transient]).2.contains("domain 'lvt' is already active"))
        _ = try await Self.virsh(harness, ["destroy", "lvt"])
        #expect(!(try await Self.virsh(harness, ["list", "--all"]).1.contains("lvt")))
        let missing = try await Self.virsh(harness, ["dominfo", "lv"])
        #expect(missing.0 == 1 && missing.2.contains("error: failed to get domain 'lv'"), "\(missing)")
        #expect(harness.leftovers().isEmpty, "left: \(harness.leftovers())")
    }

    @Test("python3-libvirt: define, info, create, console streams (one writer, FORCE), monitor command, destroy, lifecycle, reboot and agent events")
    func pythonBinding() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let (daemon, _) = try await DaemonProcessTests.startDaemon(harness)
        defer { daemon.send(signal: SIGKILL) }
        let script = TestFiles.packageRoot.appendingPathComponent("Tests/LibvirtClients/python_client.py").path
        let socket = harness.layout.runDirectory.appending("libvirt-sock").string
        let result = try await DaemonProcessTests.run("/usr/bin/python3", [script, socket, try Self.defineFile(harness, "py"), "py",
                                                                           Self.serialWatcher(harness, "py")])
        #expect(result.0 == 0 && !result.1.contains("FAIL"), "\(result.1)\n\(result.2)")
        #expect(result.1.split(separator: "\n").filter { $0.hasPrefix("ok ") }.count == 18, "\(result.1)")
    }

    @Test("virsh console on a pty: typed commands answered, a keepalive interval outlasted, Ctrl-] leaves")
    func virshConsole() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let (daemon, client) = try await DaemonProcessTests.startDaemon(harness)
        defer { daemon.send(signal: SIGKILL) }
        _ = try await client.define(xml: harness.domainXML(name: "tty"))
        _ = try await client.start("tty", paused: false)
        let watcher = try SocketReader(connectingTo: Self.serialWatcher(harness, "tty"))
        #expect(await watcher.waitFor("VIRTKIT-GUEST-READY", timeout: 120))
        let script = TestFiles.packageRoot.appendingPathComponent("Tests/LibvirtClients/virsh_console.py").path
        let result = try await DaemonProcessTests.run("/usr/bin/python3", [script, Self.uri(harness), "tty"])
        #expect(result.0 == 0 && result.1.contains("virsh exited 0"), "\(result)")
        _ = try await client.perform(.destroy, "tty")
    }

    @Test("virt-install reads VirtKit's capabilities, then defines and starts its guest; virsh shows the capabilities")
    func virtInstall() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let (daemon, _) = try await DaemonProcessTests.startDaemon(harness)
        defer { daemon.send(signal: SIGKILL) }
        let capabilities = try await Self.virsh(harness, ["capabilities"])
        #expect(capabilities.0 == 0 && capabilities.1.contains("<machine canonical='pc-q35-7.2' maxCpus='288'>q35</machine>"), "\(capabilities)")
        let domcaps = try await Self.virsh(harness, ["domcapabilities", "--machine", "q35", "--virttype", "qemu"])
        #expect(domcaps.0 == 0 && domcaps.1.contains("<machine>pc-q35-7.2</machine>") && domcaps.1.contains("<vcpu max='288'/>"), "\(domcaps)")
        let refused = try await Self.virsh(harness, ["domcapabilities", "--machine", "foo"])
        #expect(refused.0 == 1 && refused.2.contains("error: invalid argument: the machine 'foo' is not supported by emulator"), "\(refused)")
        let guest = GuestHarness.guestDirectory
        let installed = try await DaemonProcessTests.run("/usr/bin/virt-install", [
            "--connect", Self.uri(harness), "--name", "vi", "--memory", "256", "--osinfo", "generic", "--disk", "none",
            "--boot", "kernel=\(guest)/vmlinux,initrd=\(guest)/initrd.img,kernel_args=console=ttyS0",
            "--graphics", "none", "--import", "--noautoconsole"])
        #expect(installed.0 == 0 && installed.1.contains("Domain creation completed"), "\(installed)")
        let watcher = try SocketReader(connectingTo: Self.serialWatcher(harness, "vi"))
        #expect(await watcher.waitFor("VIRTKIT-GUEST-READY", timeout: 120), "serial: \(watcher.text)")
        let xml = try await Self.virsh(harness, ["dumpxml", "--inactive", "vi"])
        for part in ["<timer name='hpet' present='no'/>", "<suspend-to-mem enabled='no'/>", "model='ich9-uhci1'", "<master startport='0'/>"] {
            #expect(xml.1.contains(part), "\(part) in \(xml.1)")
        }
        #expect(try await Self.virsh(harness, ["autostart", "vi"]).1.contains("Domain 'vi' marked as autostarted"))
        #expect(try await Self.virsh(harness, ["dominfo", "vi"]).1.contains("Autostart:      enable"))
        #expect(try await Self.virsh(harness, ["list", "--all", "--autostart"]).1.contains(" vi "))
        #expect(!(try await Self.virsh(harness, ["list", "--all", "--no-autostart"]).1.contains(" vi ")))
        #expect(try await Self.virsh(harness, ["destroy", "vi"]).0 == 0)
        #expect(try await Self.virsh(harness, ["undefine", "vi"]).0 == 0)
    }
}

/// Remote use: virsh over ssh to a host where virtkitd serves the libvirt socket; sshd runs
/// on loopback with throwaway keys, and libvirt's ssh transport relays to the socket.
@Suite("libvirt's clients over ssh", .tags(.qemu), .serialized)
struct LibvirtOverSSHTests {
    /// A TCP port on loopback that nothing listens on now.
    static func freePort() throws -> Int {
        let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(probe) }
        var address = sockaddr_in(sin_family: sa_family_t(AF_INET), sin_port: 0, sin_addr: in_addr(s_addr: inet_addr("127.0.0.1")),
                                  sin_zero: (0, 0, 0, 0, 0, 0, 0, 0))
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(probe, $0, length) == 0 && getsockname(probe, $0, &length) == 0 }
        }
        guard bound else { throw HarnessError("cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    @Test("virsh -c qemu+ssh://root@127.0.0.1:PORT/session?socket=... list --all and dominfo")
    func virshOverSSH() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let (daemon, client) = try await DaemonProcessTests.startDaemon(harness)
        defer { daemon.send(signal: SIGKILL) }
        _ = try await client.define(xml: harness.domainXML(name: "far"))
        let directory = harness.root.appending("ssh").string
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        for key in ["host", "user"] {
            let made = try await DaemonProcessTests.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", "\(directory)/\(key)"])
            #expect(made.0 == 0, "\(made)")
        }
        try FileManager.default.copyItem(atPath: "\(directory)/user.pub", toPath: "\(directory)/authorized_keys")
        let port = try Self.freePort()
        let config = """
            Port \(port)
            ListenAddress 127.0.0.1
            HostKey \(directory)/host
            AuthorizedKeysFile \(directory)/authorized_keys
            PermitRootLogin prohibit-password
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            UsePAM no
            StrictModes no
            PidFile \(directory)/sshd.pid
            """
        try config.write(toFile: "\(directory)/sshd_config", atomically: true, encoding: .utf8)
        // argv[0] absolute: sshd re-executes itself from it. Spawned as virtkitd is, not with Foundation's Process: its reaper blocks on a child that
        // does not exit (sshd) and stops noticing the others (virsh) meanwhile.
        let log = try FileDescriptor.open(FilePath("\(directory)/sshd.log"), .writeOnly, options: [.create], permissions: .ownerReadWrite)
        defer { try? log.close() }
        let pid = try ProcessSpawner.spawn(executable: FilePath("/usr/sbin/sshd"), arguments: ["/usr/sbin/sshd", "-D", "-e", "-f", "\(directory)/sshd_config"],
                                           environment: ProcessInfo.processInfo.environment, output: log, placements: [])
        let sshd = try #require(ProcessIdentity.of(pid: pid))
        defer { sshd.send(signal: SIGTERM) }
        let uri = "qemu+ssh://root@127.0.0.1:\(port)/session?socket="
            + harness.layout.runDirectory.appending("libvirt-sock").string + "&keyfile=\(directory)/user&no_verify=1"
        var list = (Int32(-1), "", "")
        for _ in 0..<50 where list.0 != 0 {
            try await Task.sleep(for: .milliseconds(200))
            list = try await DaemonProcessTests.run("/usr/bin/virsh", ["-c", uri, "list", "--all"])
        }
        #expect(list.0 == 0 && list.1.contains(" -    far    shut off"), "\(list)")
        let info = try await DaemonProcessTests.run("/usr/bin/virsh", ["-c", uri, "dominfo", "far"])
        #expect(info.1.contains("Name:           far"), "\(info)")
    }
}
