import NIOCore
import Testing
@testable import VirtKitGuestAgent

/// Framing: lines, the 0xFF sentinel that drops a partial line, blank lines, the size limit.
@Suite struct FrameDecoderTests {
    /// Every frame in `chunks` fed one after another, lines as text.
    func frames(_ chunks: [[UInt8]], limit: Int = 1024) throws -> [String] {
        var decoder = GuestAgentFrameDecoder(maximumLineLength: limit)
        var buffer = ByteBuffer()
        var out: [String] = []
        for chunk in chunks {
            buffer.writeBytes(chunk)
            loop: while true {
                switch try decoder.next(&buffer) {
                case .needMoreData: break loop
                case .skipped: continue
                case .frame(.sentinel): out.append("<FF>")
                case .frame(.line(let line)): out.append(String(buffer: line))
                }
            }
        }
        return out
    }

    @Test func linesInPiecesAndCRLF() throws {
        #expect(try frames([Array("{\"ret".utf8), Array("urn\": 1}\r".utf8), Array("\n{}\n".utf8)])
            == [#"{"return": 1}"#, "{}"])
    }

    @Test func sentinelDropsThePartialLineBeforeIt() throws {
        #expect(try frames([Array("{\"return\": {\"half".utf8), [0xFF], Array("{\"return\": 7}\n".utf8)])
            == ["<FF>", #"{"return": 7}"#])
        #expect(try frames([[0xFF, 0xFF] + Array("a\nb".utf8) + [0xFF] + Array("c\n".utf8)]) == ["<FF>", "<FF>", "a", "<FF>", "c"])
    }

    @Test func blankLinesAreSkipped() throws {
        #expect(try frames([Array("\n \r\n\t\n{}\n".utf8)]) == ["{}"])
    }

    @Test func overlongLineIsMalformed() throws {
        #expect(try frames([Array(repeating: UInt8(ascii: "x"), count: 16) + [0x0A]], limit: 16) == [String(repeating: "x", count: 16)])
        #expect(throws: GuestAgent.Error.self) { try frames([Array(repeating: UInt8(ascii: "x"), count: 40)], limit: 16) }
        #expect(throws: GuestAgent.Error.self) {
            try frames([Array(repeating: UInt8(ascii: "x"), count: 17) + [0x0A]], limit: 16)
        }
    }
}
