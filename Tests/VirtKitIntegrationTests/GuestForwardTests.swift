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

/// guestfwd channels end to end: the guest's TCP connection to 10.0.2.1:PORT on its user-mode
/// NIC reaches a host peer and back, with the real test guest's busybox `nc` on the serial shell.
@Suite("Runtime: guestfwd channels through user networking", .tags(.qemu), .serialized)
struct GuestForwardTests {
    /// The guest's NIC: user-mode networking, which the guest configures as 10.0.2.15/24.
    static let userInterface = "<interface type='user'><model type='virtio'/></interface>"

    @Test("tcp connect form: QEMU connects to a host listener; the guest's line reaches it and the reply reaches the guest")
    func tcpConnect() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        // QEMU is the client of this chardev and exits when nothing listens: listen first.
        let listener = try LoopbackListener()
        let hypervisor = try await harness.hypervisor()
        let uuid = UUID().uuidString.lowercased()
        let channel = """
            <channel type='tcp'>
              <source mode='connect' host='127.0.0.1' service='\(listener.port)'/>
              <target type='guestfwd' address='10.0.2.1' port='4600'/>
            </channel>
            """
        _ = try await hypervisor.define(xml: harness.domainXML(name: "fwdtcp", uuid: uuid,
                                                               extraDevices: Self.userInterface + channel))
        _ = try await hypervisor.start(name: "fwdtcp", paused: true)
        let serial = try SocketReader(connectingTo: harness.serialPath("fwdtcp"))
        let accepted = try #require(await listener.accept(timeout: 30), "QEMU connects to the listener when it starts")
        let host = SocketReader(descriptor: accepted)
        _ = try await hypervisor.resume(name: "fwdtcp")
        try await Self.waitForShell(serial)

        // The line goes guest -> QEMU's slirp -> QEMU's chardev -> the listener's connection;
        // `sleep` keeps nc's connection open for the way back.
        try serial.send("(echo ping-from-guest-$((6*7)); sleep 120) | nc 10.0.2.1 4600\n")
        try #require(await host.waitFor("ping-from-guest-42\n", timeout: 60),
                "host got: \(host.text); serial: \(serial.text)")
        let reply = "host-reply-\(UInt32.random(in: 0...UInt32.max))"
        try host.send(reply + "\n")
        #expect(await serial.waitFor(reply, timeout: 60), "the reply reaches nc in the guest; serial: \(serial.text)")

        let stopped = try await hypervisor.destroy(name: "fwdtcp")
        #expect(stopped.state == .shutoff)
        #expect(harness.leftovers().isEmpty, "left: \(harness.leftovers())")
        #expect(GuestHarness.processes(mentioning: uuid).isEmpty)
    }

    @Test("unix bind form: virtkitd serves the path; a host client and the guest's nc exchange bytes both ways")
    func unixBind() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let hypervisor = try await harness.hypervisor()
        let uuid = UUID().uuidString.lowercased()
        let path = harness.root.appending("guestfwd.sock").string
        let channel = """
            <channel type='unix'>
              <source mode='bind' path='\(path)'/>
              <target type='guestfwd' address='10.0.2.1' port='4601'/>
            </channel>
            """
        _ = try await hypervisor.define(xml: harness.domainXML(name: "fwdunix", uuid: uuid,
                                                               extraDevices: Self.userInterface + channel))
        _ = try await hypervisor.start(name: "fwdunix", paused: true)
        let record = try #require(await hypervisor.chardevs(name: "fwdunix").first { $0.path == path },
                                  "the guestfwd chardev is brokered")
        #expect(record.role == "guestfwd")
        let serial = try SocketReader(connectingTo: harness.serialPath("fwdunix"))
        _ = try await hypervisor.resume(name: "fwdunix")
        try await Self.waitForShell(serial)

        // virtkitd listens at the domain's path (QEMU listens on a private socket it connects to).
        // The broker attaches the client on its own loop after connect() returns; what the guest
        // sends before that goes to no client (as with QEMU alone, which drops what arrives
        // while nothing is connected): wait until the client is attached. Under a loaded CI run
        // the guest's line once arrived first and the test waited for it in vain.
        let host = try SocketReader(connectingTo: path)
        let attachDeadline = ContinuousClock.now + .seconds(30)
        while try await hypervisor.chardevs(name: "fwdunix").first(where: { $0.path == path })?.clients ?? 0 < 1,
              ContinuousClock.now < attachDeadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        try serial.send("(echo ping-from-guest-$((6*7)); sleep 120) | nc 10.0.2.1 4601\n")
        let arrived = await host.waitFor("ping-from-guest-42\n", timeout: 60)
        let fromGuest = try await hypervisor.chardevs(name: "fwdunix").first { $0.path == path }.map { "\($0.bytesFromGuest) bytes from the guest, \($0.clients) clients" }
        try #require(arrived, "host got: \(host.text); virtkitd: \(fromGuest ?? "-"); serial: \(serial.text)")
        let reply = "host-reply-\(UInt32.random(in: 0...UInt32.max))"
        try host.send(reply + "\n")
        #expect(await serial.waitFor(reply, timeout: 60), "the reply reaches nc in the guest; serial: \(serial.text)")

        let stopped = try await hypervisor.destroy(name: "fwdunix")
        #expect(stopped.state == .shutoff)
        #expect(access(path, F_OK) != 0, "the socket virtkitd served is removed")
        #expect(harness.leftovers().isEmpty, "left: \(harness.leftovers())")
        #expect(GuestHarness.processes(mentioning: uuid).isEmpty)
    }

    /// Waits for the guest's ready marker (after which eth0 is configured) and a shell answer.
    static func waitForShell(_ serial: SocketReader) async throws {
        try #require(await serial.waitFor("VIRTKIT-GUEST-READY", timeout: 120), "serial so far: \(serial.text)")
        try serial.send("echo shell-$((6*7))\n")
        try #require(await serial.waitFor("shell-42", timeout: 30), "serial so far: \(serial.text)")
    }
}

/// A TCP listener on 127.0.0.1 at a port the kernel picks; closes its socket when it goes.
final class LoopbackListener {
    let descriptor: FileDescriptor
    let port: UInt16

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket: \(Errno(rawValue: errno))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listening = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(fd, address, length) == 0 && listen(fd, 4) == 0 && getsockname(fd, address, &length) == 0
            }
        }
        guard listening else {
            let error = Errno(rawValue: errno)
            Glibc.close(fd)
            throw HarnessError("cannot listen on 127.0.0.1: \(error)")
        }
        descriptor = FileDescriptor(rawValue: fd)
        port = UInt16(bigEndian: address.sin_port)
    }

    deinit { try? descriptor.close() }

    /// The next connection, or nil after `timeout` seconds. Polls without blocking (see
    /// ``SocketReader/waitFor(_:timeout:)`` for why).
    func accept(timeout: Double) async -> FileDescriptor? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let fd = Glibc.accept(descriptor.rawValue, nil, nil)
            if fd >= 0 {
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
                return FileDescriptor(rawValue: fd)
            }
            guard errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR else { return nil }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }
}
