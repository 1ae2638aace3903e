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

/// Many monitor clients at once on a running test guest: each gets its own right answer, and
/// every QMP-mode client sees the events of a pause and a resume.
@Suite("Monitor channels: many clients on a real guest", .tags(.qemu), .serialized)
struct MonitorClientsTests {
    enum Address: Sendable, CustomStringConvertible {
        case unix(String), tcp4(Int), tcp6(Int)
        var description: String {
            switch self {
            case .unix(let path): "unix:\(path)"
            case .tcp4(let port): "127.0.0.1:\(port)"
            case .tcp6(let port): "[::1]:\(port)"
            }
        }
    }

    /// A connected blocking socket to `address`, or nil.
    static func connect(_ address: Address) -> Int32? {
        switch address {
        case .unix(let path):
            return try? UnixSocket.connect(to: FilePath(path)).rawValue
        case .tcp4(let port):
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var sa = sockaddr_in()
            sa.sin_family = sa_family_t(AF_INET)
            sa.sin_port = in_port_t(UInt16(port).bigEndian)
            sa.sin_addr.s_addr = inet_addr("127.0.0.1")
            let rc = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            if rc != 0 { close(fd); return nil }
            return fd
        case .tcp6(let port):
            let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
            var sa = sockaddr_in6()
            sa.sin6_family = sa_family_t(AF_INET6)
            sa.sin6_port = in_port_t(UInt16(port).bigEndian)
            sa.sin6_addr = in6addr_loopback
            let rc = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
            if rc != 0 { close(fd); return nil }
            return fd
        }
    }

    /// Sends `text` on a new connection and reads until every marker arrived (or 30 s passed).
    static func exchange(_ address: Address, send text: String, until markers: [String]) -> String {
        guard let fd = connect(address) else { return "connect to \(address) failed" }
        defer { close(fd) }
        _ = Array(text.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        return readUntil(fd, markers)
    }

    static func readUntil(_ fd: Int32, _ markers: [String], seconds: Double = 30) -> String {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let text = String(decoding: received, as: UTF8.self)
            if markers.allSatisfy({ text.contains($0) }) { break }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 200) > 0 else { continue }
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            received += buffer[0..<n]
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// Runs `work` on `count` real threads at once (blocking sockets), returns their results.
    static func onThreads(_ count: Int, _ work: @escaping @Sendable (Int) -> String) async -> [String] {
        final class Box: @unchecked Sendable { var results: [String]; let lock = NSLock(); init(_ n: Int) { results = Array(repeating: "", count: n) } }
        let box = Box(count)
        let group = DispatchGroup()
        for i in 0..<count {
            group.enter()
            let thread = Thread {
                let result = work(i)
                box.lock.withLock { box.results[i] = result }
                group.leave()
            }
            thread.start()
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            group.notify(queue: .global()) { continuation.resume() }
        }
        return box.results
    }

    static var hasIPv6Loopback: Bool {
        let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var sa = sockaddr_in6()
        sa.sin6_family = sa_family_t(AF_INET6)
        sa.sin6_addr = in6addr_loopback
        return withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } } == 0
    }

    @Test("10 interactive and 10 command clients at once, over UNIX, IPv4 and IPv6, each with its own answer; events reach every QMP client")
    func manyClients() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let hypervisor = Hypervisor(layout: harness.layout, logger: harness.logger, accelerators: harness.probe(),
                                    monitorSettings: MonitorSettings(basePort: MonitorIntegrationTests.basePort(), tcp: true))
        try await hypervisor.load()
        _ = try await hypervisor.define(xml: harness.domainXML(name: "crowd"))
        _ = try await hypervisor.start(name: "crowd", paused: false)
        let info = try await hypervisor.monitorInfo(name: "crowd")
        let interactivePath = try #require(info.interactiveSocket)
        let commandPath = try #require(info.commandSocket)
        let monitorPort = try #require(info.monitorPort)
        let commandPort = try #require(info.commandPort)
        let ipv6 = Self.hasIPv6Loopback
        #expect(info.tcpAddresses.contains("::1") == ipv6, "::1 served exactly when the host has it: \(info.tcpAddresses)")
        @Sendable func interactiveAddress(_ i: Int) -> Address {
            switch i % 3 { case 0: .unix(interactivePath); case 1: .tcp4(monitorPort); default: ipv6 ? .tcp6(monitorPort) : .tcp4(monitorPort) }
        }
        @Sendable func commandAddress(_ i: Int) -> Address {
            switch i % 3 { case 0: .unix(commandPath); case 1: .tcp4(commandPort); default: ipv6 ? .tcp6(commandPort) : .tcp4(commandPort) }
        }

        // Each client asks something whose answer names it: an HMP echo of its own number, a
        // QMP command with its own id, or a question with a known answer.
        let results = await Self.onThreads(20) { i in
            if i < 10 {
                let address = interactiveAddress(i)
                switch i % 2 {
                case 0: return Self.exchange(address, send: "info status\nechoclient-\(i)\n", until: ["VM status: running", "echoclient-\(i)"])
                default: return Self.exchange(address, send: "info chardev\n", until: ["charmonitor", "(qemu) "])
                }
            } else {
                let address = commandAddress(i)
                switch i % 2 {
                case 0: return Self.exchange(address, send: "{\"execute\":\"query-name\",\"id\":\"client-\(i)\"}\n", until: ["client-\(i)", "crowd"])
                default: return Self.exchange(address, send: "info name\n", until: ["crowd"])
                }
            }
        }
        for (i, result) in results.enumerated() {
            if i < 10 && i % 2 == 0 {
                #expect(result.contains("VM status: running") && result.contains("unknown command: 'echoclient-\(i)'"), "client \(i): \(result)")
            } else if i < 10 {
                #expect(result.contains("charmonitor"), "client \(i): \(result)")
            } else if i % 2 == 0 {
                #expect(result.contains("\"id\": \"client-\(i)\"") || result.contains("\"id\":\"client-\(i)\""), "client \(i): \(result)")
                #expect(result.contains("crowd"), "client \(i): \(result)")
            } else {
                #expect(result.contains("crowd"), "client \(i): \(result)")
            }
        }

        // Three QMP-mode clients on the interactive channel see STOP and RESUME.
        var watchers: [Int32] = []
        defer { for fd in watchers { close(fd) } }
        for i in 0..<3 {
            let fd = try #require(Self.connect(interactiveAddress(i)))
            _ = Array("{\"execute\":\"qmp_capabilities\"}\n".utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            #expect(Self.readUntil(fd, ["\"return\""]).contains("{}"))
            watchers.append(fd)
        }
        _ = try await hypervisor.suspend(name: "crowd")
        _ = try await hypervisor.resume(name: "crowd")
        for fd in watchers {
            let events = Self.readUntil(fd, ["\"STOP\"", "\"RESUME\""])
            #expect(events.contains("\"event\": \"STOP\"") || events.contains("\"event\":\"STOP\""), "\(events)")
            #expect(events.contains("RESUME"), "\(events)")
        }
        _ = try await hypervisor.destroy(name: "crowd")
        #expect(harness.leftovers().isEmpty)
    }
}
