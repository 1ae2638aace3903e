import Foundation
import Testing
import VirtKitLibvirtRPC
import VirtKitTestSupport
import VirtKitXDR

/// The calls of Scripts/libvirt-rpc-capture.py, sent to virtkitd in the same order, answered as
/// libvirtd 9.0 answered them (Tests/Golden/libvirt-rpc): the same bytes for every success, the
/// same error number, domain and message for every failure.
@Suite("libvirt RPC: virtkitd's replies against libvirtd 9.0's", .serialized)
struct LibvirtWireParityTests {
    static let golden = TestFiles.packageRoot.appendingPathComponent("Tests/Golden/libvirt-rpc")

    static func recorded(_ label: String) throws -> [UInt8] {
        let hex = try String(contentsOf: golden.appendingPathComponent(label + ".hex"), encoding: .utf8)
        let digits = Array(hex.utf8.filter { $0 != UInt8(ascii: "\n") })
        return stride(from: 0, to: digits.count, by: 2).compactMap { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16) }
    }

    static func string(_ text: String) -> [UInt8] {
        var writer = XDRWriter()
        writer.write(text)
        return writer.bytes
    }

    @Test func everyCallAnsweredAsLibvirtdAnswered() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let (daemon, _) = try await DaemonProcessTests.startDaemon(harness)
        defer { daemon.send(signal: SIGKILL) }
        let wire = try LibvirtWireClient(harness.layout.runDirectory.appending("libvirt-sock").string)
        let xml = try String(contentsOf: Self.golden.appendingPathComponent("domain.xml"), encoding: .utf8)
        var domain: [UInt8] = []
        var open = XDRWriter()
        open.writeOptional("qemu:///system") { $0.write($1) }
        open.write(UInt32(0))
        let calls: [(String, Int32, () -> [UInt8])] = [
            ("auth-list", 66, { [] }), ("supports-feature-keepalive", 60, { [0, 0, 0, 10] }), ("open", 1, { open.bytes }),
            ("lib-version", 157, { [] }), ("lookup-missing", 23, { Self.string("nosuchdomain") }), ("define", 11, { Self.string(xml) }),
            ("list-all", 273, { [0, 0, 0, 1, 0, 0, 0, 3] }), ("get-state", 212, { domain + [0, 0, 0, 0] }), ("get-info", 16, { domain }),
            ("is-active", 150, { domain }), ("is-persistent", 151, { domain }), ("get-autostart", 15, { domain }),
            ("os-type", 19, { domain }), ("unknown-procedure", 9999, { [] }), ("undefine", 35, { domain }), ("close", 2, { [] }),
        ]
        for (label, procedure, payload) in calls {
            let expected = try Self.recorded(label)
            try wire.call(procedure, payload())
            let reply = try #require(wire.read(), "no reply to \(label)")
            var bytes = XDRWriter()
            reply.header.encode(to: &bytes)
            bytes.writeRaw(reply.payload)
            let theirs = try RPCPacket.decode(expected)
            #expect(reply.header == theirs.header, "\(label)")
            if theirs.header.status == .ok {
                #expect(bytes.bytes == expected, "\(label): \(bytes.bytes) against libvirtd's \(expected)")
            } else {
                var ours = XDRReader(reply.payload), recorded = XDRReader(theirs.payload)
                #expect(try RemoteError.decode(from: &ours) == RemoteError.decode(from: &recorded), "\(label)")
            }
            if label == "define" { domain = Array(reply.payload) }
        }
    }
}
