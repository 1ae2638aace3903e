import SystemPackage
import VirtKitHost
import VirtKitLibvirtRPC
import VirtKitXDR
#if canImport(Glibc)
import Glibc
#endif

/// A raw libvirt RPC client for protocol tests: whole packets out, whole packets in, with a
/// receive timeout so a missing answer fails the test instead of hanging it.
final class LibvirtWireClient {
    let descriptor: FileDescriptor
    private var serial: UInt32 = 0

    init(_ path: String, timeoutSeconds: Int = 10) throws {
        descriptor = try UnixSocket.connect(to: FilePath(path))
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(descriptor.rawValue, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { try? descriptor.close() }

    /// Sends a call; returns its serial.
    @discardableResult
    func call(_ procedure: Int32, _ payload: [UInt8] = [], program: UInt32 = RPCProgram.remote,
              type: RPCHeader.MessageType = .call, status: RPCHeader.Status = .ok) throws -> UInt32 {
        defer { serial += 1 }
        let header = RPCHeader(program: program, version: 1, procedure: procedure, type: type, serial: serial, status: status)
        try send(RPCPacket(header: header, payload: payload).bytes)
        return serial
    }

    func send(_ bytes: [UInt8]) throws { _ = try descriptor.writeAll(bytes) }

    /// The next packet, or nil when the daemon closed the connection (or sent nothing in time).
    func read() -> RPCPacket? {
        guard let length = readExactly(4) else { return nil }
        let size = Int(length.reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        guard size >= 28, let body = readExactly(size - 4) else { return nil }
        return try? RPCPacket.decode(body)
    }

    /// The error a reply carries, nil for an OK reply or none.
    func readError() -> RemoteError? {
        guard let packet = read(), packet.header.status == .error else { return nil }
        var reader = XDRReader(packet.payload)
        return try? RemoteError.decode(from: &reader)
    }

    private func readExactly(_ count: Int) -> [UInt8]? {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: min(count, 65536))
        while bytes.count < count {
            let want = min(buffer.count, count - bytes.count)
            guard let got = try? buffer.withUnsafeMutableBytes({ try descriptor.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<want])) }),
                  got > 0 else { return nil }
            bytes += buffer[0..<got]
        }
        return bytes
    }

    /// AUTH_LIST then CONNECT_OPEN, as every client starts.
    func open() throws {
        try call(RemoteProcedure.authList.rawValue)
        _ = read()
        var writer = XDRWriter()
        writer.writeOptional("qemu:///session") { $0.write($1) }
        writer.write(UInt32(0))
        try call(RemoteProcedure.connectOpen.rawValue, writer.bytes)
        _ = read()
    }
}
