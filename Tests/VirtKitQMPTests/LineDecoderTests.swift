import NIOCore
import Testing
@testable import VirtKitQMP

@Suite("QMP line framing")
struct LineDecoderTests {
    /// Feeds `chunks` one after another and collects the lines, as ByteToMessageHandler would.
    static func lines(_ chunks: [String], maximum: Int = 1024) throws(QMP.Error) -> [String] {
        var decoder = QMPLineDecoder(maximumLineLength: maximum)
        var buffer = ByteBuffer()
        var out: [String] = []
        for chunk in chunks {
            buffer.writeString(chunk)
            while let line = try decoder.nextLine(&buffer) {
                if line.readableBytes > 0 { out.append(String(buffer: line)) }
            }
        }
        return out
    }

    @Test func splitsOnNewlineAndStripsCarriageReturn() throws {
        #expect(try Self.lines(["{\"a\":1}\r\n{\"b\":2}\n"]) == ["{\"a\":1}", "{\"b\":2}"])
    }

    @Test func joinsALineSplitAcrossReads() throws {
        let line = "{\"return\": {}, \"id\": 1}\r\n"
        #expect(try Self.lines(line.map { String($0) }) == ["{\"return\": {}, \"id\": 1}"])
        #expect(try Self.lines(["{\"x\":", "1}\r", "\n{", "}\n"]) == ["{\"x\":1}", "{}"])
    }

    @Test func skipsBlankLines() throws {
        #expect(try Self.lines(["\n\r\n  \r\n{}\n\n"]) == ["{}"])
    }

    @Test func keepsAnUnterminatedTail() throws {
        #expect(try Self.lines(["{}\n{\"par"]) == ["{}"])
    }

    @Test func lineExactlyAtTheLimitPasses() throws {
        let line = String(repeating: "a", count: 16)
        #expect(try Self.lines([line + "\r\n"], maximum: 16) == [line])
    }

    @Test func tooLongWithoutNewlineThrowsEarly() {
        #expect(throws: QMP.Error.lineTooLong) {
            try Self.lines([String(repeating: "a", count: 10), String(repeating: "a", count: 10)], maximum: 16)
        }
    }

    @Test func tooLongWithNewlineThrows() {
        #expect(throws: QMP.Error.lineTooLong) {
            try Self.lines([String(repeating: "a", count: 17) + "\n"], maximum: 16)
        }
    }

    @Test func encoderWritesCompactJSONAndNewline() throws {
        var out = ByteBuffer()
        try QMPMessageEncoder().encode(data: ["execute": "stop", "id": 3], out: &out)
        #expect(String(buffer: out) == "{\"execute\":\"stop\",\"id\":3}\n")
    }
}
