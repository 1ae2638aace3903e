import Foundation
import SystemPackage
import Testing
import VirtKitClient
import VirtKitHost
import VirtKitRuntime
import VirtKitTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The units in contrib/systemd, and the daemon's side of Type=notify.
@Suite("systemd units", .serialized)
struct SystemdUnitTests {
    /// `systemd-analyze verify` on the units, their binaries pointed at this build's.
    @Test("systemd-analyze verify accepts the units")
    func unitsVerify() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("virtkit-units-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let units = TestFiles.packageRoot.appendingPathComponent("contrib/systemd")
        let bin = try DaemonProcessTests.binary("virtkitd").split(separator: "/").dropLast().joined(separator: "/")
        var paths: [String] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: units.path) where name.hasSuffix(".service") {
            let text = try String(contentsOf: units.appendingPathComponent(name), encoding: .utf8)
            let target = directory.appendingPathComponent(name)
            try text.replacingOccurrences(of: "/usr/local/bin/", with: "/" + bin + "/").write(to: target, atomically: true, encoding: .utf8)
            paths.append(target.path)
        }
        #expect(paths.count == 3)
        let result = try await DaemonProcessTests.run("/usr/bin/systemd-analyze", ["verify", "--man=no"] + paths.sorted())
        // Only the units' own lines count: the host's other units are not ours to judge.
        let ours = (result.1 + result.2).split(separator: "\n").filter { line in paths.contains { line.contains(($0 as NSString).lastPathComponent) } }
        #expect(ours.isEmpty, "\(result)")
        let guests = try String(contentsOfFile: paths.first { $0.hasSuffix("virtkit-guests.service") } ?? "", encoding: .utf8)
        #expect(guests.contains("shutdown --all --parallel 8 --timeout 300") && guests.contains("TimeoutStopSec=340"))
    }

    @Test("virtkitd says READY=1 on NOTIFY_SOCKET once its API answers")
    func notifiesReadiness() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("virtkit-notify-\(getpid()).sock").path
        unlink(path)
        defer { unlink(path) }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        var environment = ProcessInfo.processInfo.environment
        environment["NOTIFY_SOCKET"] = path
        let devNull = try FileDescriptor.open("/dev/null", .writeOnly)
        defer { try? devNull.close() }
        let pid = try ProcessSpawner.spawn(
            executable: FilePath(try DaemonProcessTests.binary("virtkitd")),
            arguments: ["virtkitd", "--run-dir", harness.layout.runDirectory.string, "--state-dir", harness.layout.stateDirectory.string,
                        "--log-dir", harness.layout.logDirectory.string, "--config-dir", harness.root.appending("no-etc").string],
            environment: environment, output: devNull, placements: [])
        let daemon = try #require(ProcessIdentity.of(pid: pid))
        defer { daemon.send(signal: SIGKILL) }
        var buffer = [UInt8](repeating: 0, count: 64)
        var n = -1
        let deadline = ContinuousClock.now + .seconds(30)
        while n < 0, ContinuousClock.now < deadline {
            n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if n < 0 { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(String(decoding: buffer.prefix(max(0, n)), as: UTF8.self) == "READY=1")
        // Ready means the API answers.
        #expect((try? DaemonClient(socketPath: harness.layout.socketPath.string).version()) != nil)
        #expect(!SystemdNotify.send("READY=1", environment: [:]))
    }

    @Test("host.conf's metrics_address serves GET /metrics on TCP, and nothing else")
    func metricsOnTCP() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let etc = harness.root.appending("etc")
        try AtomicFile.makeDirectory(etc)
        let port = try LibvirtOverSSHTests.freePort()
        try AtomicFile.write("metrics_address = 127.0.0.1:\(port)\n", to: etc.appending("host.conf"))
        let (daemon, client) = try await DaemonProcessTests.startDaemon(harness, configDirectory: etc.string)
        defer { daemon.send(signal: SIGKILL) }
        _ = try client.define(xml: harness.domainXML(name: "scraped"))
        var metrics = (Int32(1), "", "")
        for _ in 0..<50 where !metrics.1.contains("virtkit_domains") {
            metrics = try await DaemonProcessTests.run("/usr/bin/curl", ["-s", "http://127.0.0.1:\(port)/metrics"])
            if !metrics.1.contains("virtkit_domains") { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(metrics.1.contains(#"virtkit_domain_running{domain="scraped"} 0"#), "\(metrics)")
        let api = try await DaemonProcessTests.run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/v1/domains"])
        #expect(api.1 == "404", "the API is not on the metrics port: \(api)")
        let bad = HostSettingsCheck.parse("metrics_address = 127.0.0.1:99999")
        #expect(bad == "host.conf:1: metrics_address must be HOST:PORT, got '127.0.0.1:99999'")
    }
}

/// host.conf as the daemon reads it, for error messages.
enum HostSettingsCheck {
    static func parse(_ text: String) -> String? {
        do {
            _ = try HostSettings.parse(text, file: "host.conf")
            return nil
        } catch {
            return error.message
        }
    }
}
