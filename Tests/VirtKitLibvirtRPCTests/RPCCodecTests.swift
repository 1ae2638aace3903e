import Testing
import VirtKitLibvirtRPC
import VirtKitModel
import VirtKitXDR

@Suite("libvirt RPC: packets, errors and domains on the wire")
struct RPCCodecTests {
    @Test func aPacketIsItsLengthTheHeaderAndThePayload() throws {
        let header = RPCHeader(program: RPCProgram.remote, version: 1, procedure: 66, type: .reply, serial: 3, status: .ok)
        let packet = RPCPacket(header: header, payload: [0, 0, 0, 1, 0, 0, 0, 0])
        #expect(packet.bytes == [0, 0, 0, 36, 0x20, 0x00, 0x80, 0x86, 0, 0, 0, 1, 0, 0, 0, 66, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 0,
                                 0, 0, 0, 1, 0, 0, 0, 0])
        #expect(try RPCPacket.decode(Array(packet.bytes.dropFirst(4))) == packet)
        // Stream data is raw: an odd length is not padded.
        let data = RPCPacket(header: header.reply(.continue, type: .stream), payload: [0x41])
        #expect(data.bytes.count == 29 && data.bytes[0...3] == [0, 0, 0, 29])
    }

    @Test func headersThatCannotBeAnswered() {
        #expect(throws: RPCHeaderError.truncated) { try RPCPacket.decode([0, 0, 0, 1]) }
        let badType: [UInt8] = [0x20, 0, 0x80, 0x86, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 9, 0, 0, 0, 5, 0, 0, 0, 0]
        #expect(throws: RPCHeaderError.invalid(program: 0x2000_8086, version: 1, procedure: 3, serial: 5,
                                                reason: "unknown message type 9 or status 0")) { try RPCPacket.decode(badType) }
        #expect(!RPCPacket.isAcceptable(length: 27) && RPCPacket.isAcceptable(length: 28))
        #expect(RPCPacket.isAcceptable(length: UInt32(RPCLimits.messageMax)) && !RPCPacket.isAcceptable(length: UInt32(RPCLimits.messageMax) + 1))
    }

    @Test func anErrorIsLaidOutAsVirNetMessageError() throws {
        var writer = XDRWriter()
        RemoteError(code: 42, domain: 10, message: "Domain not found: x").encode(to: &writer)
        var expected: [UInt8] = [0, 0, 0, 42, 0, 0, 0, 10, 0, 0, 0, 1, 0, 0, 0, 19] + Array("Domain not found: x".utf8) + [0]
        expected += [0, 0, 0, 2]  // level
        expected += [0, 0, 0, 0]  // dom
        expected += [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]  // str1..3
        expected += [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]  // int1, int2
        expected += [0, 0, 0, 0]  // net
        #expect(writer.bytes == expected)
        var reader = XDRReader(writer.bytes)
        #expect(try RemoteError.decode(from: &reader) == RemoteError(code: 42, domain: 10, message: "Domain not found: x"))
    }

    @Test func domainsAndUUIDs() throws {
        let uuid = try #require(RemoteDomain.uuidBytes("5b2a8f0e-8e0c-4a53-9d1c-6f1e2a3b4c5d"))
        #expect(uuid.count == 16 && uuid[0] == 0x5B && uuid[15] == 0x5D)
        #expect(RemoteDomain.uuidString(uuid) == "5b2a8f0e-8e0c-4a53-9d1c-6f1e2a3b4c5d")
        #expect(RemoteDomain.uuidBytes("5B2A8F0E8E0C4A539D1C6F1E2A3B4C5D") == uuid)
        #expect(RemoteDomain.uuidBytes("not-a-uuid") == nil && RemoteDomain.uuidBytes("5b2a8f0e-8e0c-4a53-9d1c-6f1e2a3b4c5z") == nil)
        var writer = XDRWriter()
        writer.write(RemoteDomain(name: "demo", uuid: uuid, id: -1))
        #expect(writer.bytes.count == 4 + 4 + 16 + 4)
        var reader = XDRReader(writer.bytes)
        #expect(try reader.readDomain() == RemoteDomain(name: "demo", uuid: uuid, id: -1))
    }

    @Test func charArraysAreOneWordPerByte() {
        var writer = XDRWriter()
        writer.writeCharArray("ab")
        #expect(writer.bytes == [0, 0, 0, 3, 0, 0, 0, 0x61, 0, 0, 0, 0x62, 0, 0, 0, 0])
        var fixed = XDRWriter()
        fixed.writeFixedCharArray("x86_64", count: 32)
        #expect(fixed.bytes.count == 128 && fixed.bytes[3] == 0x78 && fixed.bytes[27] == 0)
    }

    @Test(arguments: [
        (DomainState.running, DomainStateReason.booted, Int32(1), Int32(1)),
        (.paused, .userRequested, 3, 1), (.starting, .unknown, 3, 11), (.inShutdown, .unknown, 4, 1),
        (.shutoff, .unknown, 5, 0), (.shutoff, .shutdown, 5, 1), (.shutoff, .destroyed, 5, 2), (.shutoff, .crashed, 5, 3),
        (.shutoff, .failed, 5, 6), (.shutoff, .daemonRestart, 5, 8), (.crashed, .crashed, 6, 0),
    ])
    func statesInLibvirtsNumbers(state: DomainState, reason: DomainStateReason, number: Int32, why: Int32) {
        #expect(LibvirtDomainState(state, reason) == LibvirtDomainState(state: number, reason: why))
    }

    @Test func listAllDomainsFilters() {
        let running = LibvirtDomainState(.running, .booted), off = LibvirtDomainState(.shutoff, .unknown)
        #expect(ListAllDomainsFilter(flags: 0).admits(state: off, persistent: true))
        #expect(ListAllDomainsFilter(flags: 1).admits(state: running, persistent: true))
        #expect(!ListAllDomainsFilter(flags: 1).admits(state: off, persistent: true))
        #expect(ListAllDomainsFilter(flags: 3).admits(state: off, persistent: true))
        #expect(!ListAllDomainsFilter(flags: 8).admits(state: running, persistent: true))
        #expect(ListAllDomainsFilter(flags: 8).admits(state: running, persistent: false))
        #expect(ListAllDomainsFilter(flags: 64).admits(state: off, persistent: true))
        #expect(!ListAllDomainsFilter(flags: 16 | 32).admits(state: off, persistent: true))
        #expect(!ListAllDomainsFilter(flags: 256).admits(state: off, persistent: true), "no managed save")
        #expect(ListAllDomainsFilter(flags: 512 | 2048 | 8192).admits(state: off, persistent: true))
    }
}
