import Foundation
import SystemPackage
import Testing
import VirtKitHost
import VirtKitLibvirtRPC
import VirtKitXDR
#if canImport(Glibc)
import Glibc
#endif

/// Hostile and broken clients on virtkitd's libvirt socket: each gets an error reply or a close,
/// and the daemon carries on without keeping a descriptor.
@Suite("libvirt socket: bad input against a real virtkitd", .tags(.qemu), .serialized)
struct LibvirtBadInputTests {
    @Test("bad lengths, truncated and oversized XDR, unknown programs and procedures, stray streams, 1000 connections, a flood")
    func badInput() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let (daemon, client) = try await DaemonProcessTests.startDaemon(harness)
        defer { daemon.send(signal: SIGKILL) }
        let socket = harness.layout.runDirectory.appending("libvirt-sock").string
        let before = ConsoleBadInputTests.descriptorCount(daemon.pid)

        // Lengths that cannot be a packet: the connection is closed.
        for length: UInt32 in [0, 8, 27, UInt32(RPCLimits.messageMax) + 1, 0xFFFF_FFFF] {
            let wire = try LibvirtWireClient(socket)
            var writer = XDRWriter()
            writer.write(length)
            try wire.send(writer.bytes + [UInt8](repeating: 0, count: 24))
            #expect(wire.read() == nil, "length \(length)")
        }

        let wire = try LibvirtWireClient(socket)
        // Before CONNECT_OPEN only the handshake is served.
        try wire.call(RemoteProcedure.connectListAllDomains.rawValue, [0, 0, 0, 1, 0, 0, 0, 3])
        #expect(wire.readError()?.message == "internal error: hypervisor connection not open")
        try wire.call(RemoteProcedure.connectOpen.rawValue, [0, 0])
        #expect(wire.readError()?.message.hasPrefix("Unable to decode message payload") == true)
        try wire.open()
        try wire.call(RemoteProcedure.domainLookupByName.rawValue, [0x7F, 0xFF, 0xFF, 0xFF])
        #expect(wire.readError()?.message.contains("over its limit") == true)
        var name = XDRWriter()
        name.write("nope")
        try wire.call(RemoteProcedure.domainLookupByName.rawValue, name.bytes)
        #expect(wire.readError() == RemoteError(code: 42, domain: 10, message: "Domain not found: no domain with matching name 'nope'"))
        try wire.call(9999)
        #expect(wire.readError() == RemoteError(code: 39, domain: 7, message: "unknown procedure: 9999"))
        try wire.call(1, program: 0x1234_5678)
        #expect(wire.readError()?.message == "cannot find program 305419896 version 1")
        try wire.call(201, [1, 2, 3], type: .stream, status: .continue)
        let stray = wire.read()
        #expect(stray?.header.type == .stream && stray?.header.status == .error)
        var badType = RPCPacket(header: RPCHeader(program: RPCProgram.remote, version: 1, procedure: 3, type: .call, serial: 99, status: .ok)).bytes
        badType[19] = 9  // message type 9
        try wire.send(badType)
        let refused = wire.read()
        #expect(refused?.header.serial == 99 && refused?.header.status == .error)
        // The connection still works after all that.
        try wire.call(RemoteProcedure.connectGetLibVersion.rawValue)
        #expect(wire.read()?.payload == [0, 0, 0, 0, 0, 0x89, 0x54, 0x40])

        // 1000 connections opened and closed.
        for _ in 0..<1000 {
            let quick = try LibvirtWireClient(socket)
            try quick.call(RemoteProcedure.authList.rawValue)
            _ = quick.read()
        }

        // 500 clients gone before they could be admitted: the socket goes on accepting.
        for _ in 0..<500 {
            try? UnixSocket.connect(to: FilePath(socket)).close()
        }
        let after = try LibvirtWireClient(socket)
        try after.call(RemoteProcedure.authList.rawValue)
        #expect(after.read()?.header.status == .ok, "still accepting after clients that vanished at once")

        // A client that sends calls and never reads is not read either once its replies back
        // up; everyone else is still served.
        let flooder = try LibvirtWireClient(socket)
        try flooder.open()
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(flooder.descriptor.rawValue, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let call = RPCPacket(header: RPCHeader(program: RPCProgram.remote, version: 1, procedure: RemoteProcedure.connectGetLibVersion.rawValue,
                                               type: .call, serial: 1, status: .ok)).bytes
        let burst = Array((0..<1000).map { _ in call }.joined())
        var sent = 0
        while sent < 200, (try? flooder.send(burst)) != nil { sent += 1 }
        #expect(sent < 200, "the daemon stopped reading a client that does not read")
        let other = try LibvirtWireClient(socket)
        try other.open()
        try other.call(RemoteProcedure.connectGetHostname.rawValue)
        #expect(other.read()?.header.status == .ok)
        #expect(try await client.version().pid == daemon.pid)

        for connection in [wire, flooder, other, after] { shutdown(connection.descriptor.rawValue, Int32(SHUT_RDWR)) }
        let settled = await ConsoleBadInputTests.settle(daemon.pid, to: before)
        #expect(settled, "virtkitd's descriptors: \(before) before, \(ConsoleBadInputTests.descriptorCount(daemon.pid)) after")
    }
}
