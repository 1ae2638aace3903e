import Testing
import VirtKitXDR

@Suite("XDR as rpcgen writes it")
struct XDRTests {
    @Test func integersAreBigEndianFourOrEightBytes() throws {
        var writer = XDRWriter()
        writer.write(UInt32(0x2000_8086))
        writer.write(Int32(-1))
        writer.write(UInt64(0x0102_0304_0506_0708))
        writer.write(Int64(-2))
        writer.write(true)
        #expect(writer.bytes == [0x20, 0x00, 0x80, 0x86, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4, 5, 6, 7, 8,
                                 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0, 0, 0, 1])
        var reader = XDRReader(writer.bytes)
        #expect(try reader.read(UInt32.self) == 0x2000_8086)
        #expect(try reader.read(Int32.self) == -1)
        #expect(try reader.read(UInt64.self) == 0x0102_0304_0506_0708)
        #expect(try reader.read(Int64.self) == -2)
        #expect(try reader.read(Bool.self))
        try reader.finish()
    }

    @Test(arguments: [("", [0, 0, 0, 0] as [UInt8]), ("a", [0, 0, 0, 1, 0x61, 0, 0, 0]),
                      ("abcd", [0, 0, 0, 4, 0x61, 0x62, 0x63, 0x64]), ("é", [0, 0, 0, 2, 0xC3, 0xA9, 0, 0])])
    func stringsAreLengthBytesAndPadding(text: String, bytes: [UInt8]) throws {
        var writer = XDRWriter()
        writer.write(text)
        #expect(writer.bytes == bytes)
        var reader = XDRReader(bytes)
        #expect(try reader.readString(limit: 16) == text)
        try reader.finish()
    }

    @Test func optionalsArraysAndFixedOpaques() throws {
        let uuid: [UInt8] = Array(0..<16)
        var writer = XDRWriter()
        writer.writeOptional("x") { $0.write($1) }
        writer.writeOptional(String?.none) { $0.write($1) }
        writer.writeArray([UInt32(7), 9]) { $0.write($1) }
        writer.writeFixedOpaque(uuid)
        writer.writeOpaque([1, 2, 3])
        var reader = XDRReader(writer.bytes)
        #expect(try reader.readOptional { r throws(XDRError) in try r.readString(limit: 4) } == "x")
        #expect(try reader.readOptional { r throws(XDRError) in try r.readString(limit: 4) } == nil)
        #expect(try reader.readArray(limit: 2) { r throws(XDRError) in try r.read(UInt32.self) } == [7, 9])
        #expect(try reader.readFixedOpaque(count: 16) == uuid)
        #expect(try reader.readOpaque(limit: 3) == [1, 2, 3])
        try reader.finish()
    }

    @Test func badInputIsRefusedNeverTrapped() {
        var short = XDRReader([0, 0, 0])
        #expect(throws: XDRError.truncated(offset: 0, needed: 1)) { try short.read(UInt32.self) }
        var long = XDRReader([0, 0, 0, 9, 1, 2, 3, 4])
        #expect(throws: XDRError.tooLong(what: "name", length: 9, limit: 8)) { try long.readString(limit: 8, what: "name") }
        var cut = XDRReader([0, 0, 0, 5, 1, 2, 3, 4])
        #expect(throws: XDRError.truncated(offset: 4, needed: 1)) { try cut.readOpaque(limit: 8) }
        var bool = XDRReader([0, 0, 0, 2])
        #expect(throws: XDRError.invalid(what: "bool", offset: 0)) { try bool.read(Bool.self) }
        var utf8 = XDRReader([0, 0, 0, 1, 0xFF, 0, 0, 0])
        #expect(throws: XDRError.invalid(what: "string", offset: 0)) { try utf8.readString(limit: 8) }
        var huge = XDRReader([0xFF, 0xFF, 0xFF, 0xFF])
        #expect(throws: XDRError.tooLong(what: "array", length: 0xFFFF_FFFF, limit: 10)) {
            try huge.readArray(limit: 10) { r throws(XDRError) in try r.read(UInt32.self) }
        }
        let rest = XDRReader([0, 0, 0, 0])
        #expect(throws: XDRError.trailingBytes(count: 4)) { try rest.finish() }
    }
}
