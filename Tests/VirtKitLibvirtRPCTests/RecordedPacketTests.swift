import Foundation
import Testing
import VirtKitLibvirtRPC
import VirtKitXDR

/// The codec on bytes libvirtd 9.0 wrote (Tests/Golden/libvirt-rpc, Scripts/libvirt-rpc-capture.sh).
@Suite("libvirt RPC: the codec on libvirtd 9.0's own packets")
struct RecordedPacketTests {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Golden/libvirt-rpc")

    static func packet(_ label: String) throws -> RPCPacket {
        let hex = try String(contentsOf: golden.appendingPathComponent(label + ".hex"), encoding: .utf8)
        let digits = Array(hex.utf8.filter { $0 != UInt8(ascii: "\n") })
        let bytes = stride(from: 0, to: digits.count, by: 2).compactMap { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16) }
        return try RPCPacket.decode(bytes)
    }

    @Test func headersAndDomains() throws {
        let defined = try Self.packet("define")
        #expect(defined.header == RPCHeader(program: RPCProgram.remote, version: 1, procedure: 11, type: .reply, serial: 5, status: .ok))
        var reader = XDRReader(defined.payload)
        let domain = try reader.readDomain()
        try reader.finish()
        #expect(domain == RemoteDomain(name: "rpcgolden", uuid: try #require(RemoteDomain.uuidBytes("3f0c9a4e-51d2-4b7e-8c61-0d2e9b7a4c15")), id: -1))
        var writer = XDRWriter()
        writer.write(domain)
        #expect(writer.bytes == defined.payload, "re-encoded as libvirtd encoded it")

        var list = XDRReader(try Self.packet("list-all").payload)
        #expect(try list.readArray(limit: RPCLimits.domainListMax) { r throws(XDRError) in try r.readDomain() } == [domain])
        #expect(try list.read(UInt32.self) == 1)
    }

    @Test func errorsAsLibvirtdWritesThem() throws {
        let missing = try Self.packet("lookup-missing")
        #expect(missing.header.status == .error && missing.header.type == .reply)
        var reader = XDRReader(missing.payload)
        #expect(try RemoteError.decode(from: &reader) == RemoteError(code: 42, domain: 10, message: "Domain not found: no domain with matching name 'nosuchdomain'"))
        var unknown = XDRReader(try Self.packet("unknown-procedure").payload)
        #expect(try RemoteError.decode(from: &unknown) == .unknownProcedure(9999))
    }

    @Test func infoAndStateInLibvirtsNumbers() throws {
        var info = XDRReader(try Self.packet("get-info").payload)
        #expect(try info.read(UInt32.self) == 5)  // shut off, an unsigned char in 4 bytes
        #expect(try info.read(UInt64.self) == 131_072 && info.read(UInt64.self) == 131_072)
        #expect(try info.read(UInt32.self) == 1 && info.read(UInt64.self) == 0)
        var state = XDRReader(try Self.packet("get-state").payload)
        #expect(try LibvirtDomainState(state: state.read(Int32.self), reason: state.read(Int32.self)) == LibvirtDomainState(.shutoff, .unknown))
    }
}
