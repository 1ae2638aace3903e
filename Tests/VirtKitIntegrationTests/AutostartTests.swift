import Foundation
import SystemPackage
import Testing
import VirtKitAPI
import VirtKitHost
import VirtKitTestSupport

/// Guests that start with the host: marked with `virtkit autostart` (and libvirt's
/// DOMAIN_SET_AUTOSTART), started by the first daemon start after a boot in their order, at
/// most `parallel_start` at once, a broken one reported while the others run; a daemon restart
/// starts nothing.
@Suite("autostart with the host", .tags(.qemu), .serialized)
struct AutostartTests {
    /// `name`'s XML with VirtKit's autostart settings in its metadata.
    static func xml(_ harness: GuestHarness, _ name: String, _ settings: String, kernel: String? = nil) -> String {
        harness.domainXML(name: name, kernel: kernel).replacingOccurrences(of: "<vcpu>1</vcpu>", with: """
            <vcpu>1</vcpu>
            <metadata><virtkit:autostart xmlns:virtkit='urn:virtkit:autostart:1' \(settings)/></metadata>
            """)
    }

    static func log(_ harness: GuestHarness) -> [String] {
        String(decoding: AtomicFile.read(harness.root.appending("virtkitd.out")) ?? [], as: UTF8.self)
            .split(separator: "\n").map(String.init)
    }

    @Test("Marked guests start in order, two at once, after their delay and their 'after'; a restart starts nothing")
    func startsWithTheHost() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let etc = harness.root.appending("etc")
        try AtomicFile.makeDirectory(etc)
        try AtomicFile.write("parallel_start = 2\n", to: etc.appending("host.conf"))
        var (daemon, client) = try await DaemonProcessTests.startDaemon(harness, configDirectory: etc.string)
        _ = try client.define(xml: Self.xml(harness, "broken", "order='0'", kernel: "/nonexistent/vmlinux"))
        _ = try client.define(xml: Self.xml(harness, "alpha", "order='1'"))
        _ = try client.define(xml: Self.xml(harness, "bravo", "order='2' delay='2'"))
        _ = try client.define(xml: Self.xml(harness, "charlie", "order='1' after='alpha'"))
        _ = try client.define(xml: harness.domainXML(name: "unmarked"))
        for name in ["broken", "alpha", "bravo", "charlie"] {
            let marked = try await DaemonProcessTests.cli(harness, ["autostart", name])
            #expect(marked.0 == 0 && marked.1 == "Domain '\(name)' marked as autostarted\n\n", "\(marked)")
        }
        let listed = try await DaemonProcessTests.cli(harness, ["list", "--all", "--autostart"])
        #expect(listed.1.contains("alpha") && !listed.1.contains("unmarked"), "\(listed)")
        #expect(try client.list(all: true, autostart: false).map(\.name) == ["unmarked"])
        let transient = try await DaemonProcessTests.cli(harness, ["dominfo", "alpha"])
        #expect(transient.1.contains("Autostart:      enable"), "\(transient)")

        // A host boot: the run directory's marker is gone; the next daemon starts the marked.
        daemon.send(signal: SIGKILL)
        _ = await ProcessExitWatcher.waitForExit(daemon)
        unlink(harness.layout.runDirectory.appending("autostarted").string)
        (daemon, client) = try await DaemonProcessTests.startDaemon(harness, configDirectory: etc.string)
        defer { daemon.send(signal: SIGKILL) }
        let deadline = ContinuousClock.now + .seconds(120)
        var running: Set<String> = []
        while ContinuousClock.now < deadline {
            running = Set(try client.list(all: false).map(\.name))
            if running.isSuperset(of: ["alpha", "bravo", "charlie"]) && Self.log(harness).contains(where: { $0.contains("autostart: 3 started") }) { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(running == ["alpha", "bravo", "charlie"])
        let whole = Self.log(harness)
        // The booted daemon's lines: from its plan on.
        let log = Array(whole[(whole.lastIndex { $0.contains("autostart: starting marked domains") } ?? 0)...].dropFirst())
        #expect(log.contains { $0.contains("autostart: broken did not start: ") && $0.contains("/nonexistent/vmlinux") }, "\(log)")
        #expect(log.contains { $0.contains("autostart: 3 started: ") && $0.contains("1 not started: broken (") }, "\(log)")
        // At most two starts at once, charlie only after alpha ran, in the plan's order.
        var inFlight = 0, most = 0
        var began: [String] = []
        for line in log {
            if line.contains("autostart: starting "), let name = line.components(separatedBy: "autostart: starting ").last {
                inFlight += 1
                began.append(name)
            } else if line.contains("[VirtKitRuntime] started ") || line.contains("did not start:") {
                inFlight -= 1
            }
            most = max(most, inFlight)
        }
        #expect(most == 2, "\(log)")
        #expect(began == ["broken", "alpha", "bravo", "charlie"] || began == ["broken", "alpha", "charlie", "bravo"], "\(began)")
        let alphaStarted = try #require(log.firstIndex { $0.hasSuffix("[VirtKitRuntime] started alpha") })
        let charlieBegan = try #require(log.firstIndex { $0.contains("autostart: starting charlie") })
        #expect(alphaStarted < charlieBegan)

        // A daemon restart is not a boot: a stopped marked guest stays stopped.
        _ = try client.perform(.destroy, "alpha")
        daemon.send(signal: SIGKILL)
        _ = await ProcessExitWatcher.waitForExit(daemon)
        (daemon, client) = try await DaemonProcessTests.startDaemon(harness, configDirectory: etc.string)
        try await Task.sleep(for: .seconds(1))
        #expect(try client.state("alpha").state == .shutoff)
        #expect(Self.log(harness).contains { $0.contains("autostart: not the first start since the host booted") })
        for name in ["bravo", "charlie"] { _ = try client.perform(.destroy, name) }
        // Undefining removes the mark.
        try client.undefine("charlie")
        #expect(!FileManager.default.fileExists(atPath: harness.layout.stateDirectory.appending("autostart/charlie").string))
    }
}

/// `virtkit shutdown --all` as a host going down runs it: in the reverse of the autostart
/// order, a limited number at once, one deadline, and a guest that ignores the power button
/// left running or destroyed at the deadline.
@Suite("shutdown --all with the host", .tags(.qemu), .serialized)
struct HostShutdownTests {
    @Test("--parallel 2 in reverse autostart order; --on-timeout leave keeps a deaf guest, destroy stops it")
    func shutdownAll() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let (daemon, client) = try await DaemonProcessTests.startDaemon(harness)
        defer { daemon.send(signal: SIGKILL) }
        for (name, settings) in [("alpha", "order='1'"), ("bravo", "order='2' after='alpha'"), ("charlie", "order='3'")] {
            _ = try client.define(xml: AutostartTests.xml(harness, name, settings))
            try client.start(name, paused: false)
        }
        _ = try client.define(xml: harness.domainXML(name: "deaf"))
        try client.start("deaf", paused: false)
        for name in ["alpha", "bravo", "charlie", "deaf"] {
            let serial = try SocketReader(connectingTo: harness.serialPath(name))
            #expect(await serial.waitFor("VIRTKIT-GUEST-READY", timeout: 180), "\(name) booted")
            guard name == "deaf" else { continue }
            // Without acpid the guest does not hear the power button.
            try serial.send("\nkillall acpid; echo deaf-$((2*3))\n")
            #expect(await serial.waitFor("deaf-6", timeout: 30))
        }

        // The running guests' metrics, as Prometheus scrapes them.
        let metrics = try await DaemonProcessTests.run("/usr/bin/curl", ["-s", "--unix-socket", harness.layout.socketPath.string, "http://virtkitd/metrics"])
        #expect(metrics.1.contains(#"virtkit_domain_running{domain="alpha"} 1"#), "\(metrics)")
        #expect(metrics.1.contains(#"virtkit_domain_agent_connected{domain="alpha"} 1"#), "\(metrics)")
        let fromGuest = metrics.1.split(separator: "\n").first { $0.hasPrefix(#"virtkit_chardev_bytes_from_guest_total{domain="alpha",chardev="serial0"}"#) }
        #expect((fromGuest?.split(separator: " ").last.flatMap { Double($0) } ?? 0) > 1000, "\(metrics)")
        #expect(metrics.1.contains(#"virtkit_domains{state="running"} 4"#), "\(metrics)")

        let left = try await DaemonProcessTests.cli(harness, ["shutdown", "--all", "--parallel", "2", "--timeout", "40", "--on-timeout", "leave"])
        #expect(left.0 == 1, "\(left)")
        let requested = left.1.split(separator: "\n").compactMap { line in
            line.hasPrefix("Domain '") && line.hasSuffix("' is being shutdown") ? line.split(separator: "'")[1] : nil
        }
        // Reverse order (charlie 3, bravo 2, deaf 0 ... alpha 1 after bravo): at most two at once.
        #expect(requested.first == "charlie", "\(requested)")
        #expect((requested.firstIndex(of: "bravo") ?? 99) < (requested.firstIndex(of: "alpha") ?? -1), "\(requested)")
        #expect(left.2.contains("error: domain 'deaf': left running after the 40 s deadline"), "\(left)")
        for name in ["alpha", "bravo", "charlie"] { #expect(try client.state(name).state == .shutoff, "\(name)") }
        #expect(try client.state("deaf").state == .running)

        let destroyed = try await DaemonProcessTests.cli(harness, ["shutdown", "--all", "--timeout", "1"])
        #expect(destroyed.0 == 0 && destroyed.1.contains("Domain 'deaf' is shut off"), "\(destroyed)")
    }
}
