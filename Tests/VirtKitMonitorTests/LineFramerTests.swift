import Testing
@testable import VirtKitMonitor

@Suite("Line framing and telnet negotiation")
struct LineFramerTests {
    private func lines(_ framer: inout MonitorLineFramer, _ bytes: [UInt8]) -> [String] {
        framer.feed(bytes).map { output in
            switch output {
            case .line(let line): String(decoding: line, as: UTF8.self)
            case .tooLong: "<too long>"
            }
        }
    }

    @Test(arguments: [
        ("info status\n", ["info status"]),
        ("info status\r\n", ["info status"]),
        ("info status\r\0", ["info status"]),
        ("a\rb\n", ["a", "b"]),
        ("a\n\nb\r\n\r\n", ["a", "", "b", ""]),
        ("no end yet", []),
    ])
    func lineEnds(input: String, expected: [String]) {
        var framer = MonitorLineFramer(maxLineLength: 100)
        #expect(lines(&framer, Array(input.utf8)) == expected)
    }

    @Test func telnetNegotiationIsRemoved() {
        var framer = MonitorLineFramer(maxLineLength: 100)
        // IAC DO ECHO, IAC WILL SGA, IAC SB TTYPE 0 "xterm" IAC SE, IAC NOP, IAC IAC (0xFF).
        var bytes: [UInt8] = [255, 253, 1, 255, 251, 3, 255, 250, 24, 0] + Array("xterm".utf8) + [255, 240]
        bytes += [255, 241] + Array("info".utf8) + [255, 255] + Array(" status\r\0".utf8)
        #expect(framer.feed(bytes) == [.line(Array("info".utf8) + [255] + Array(" status".utf8))])
    }

    @Test func negotiationSplitAcrossReads() {
        var framer = MonitorLineFramer(maxLineLength: 100)
        #expect(lines(&framer, [255]).isEmpty)
        #expect(lines(&framer, [253]).isEmpty)
        #expect(lines(&framer, [1] + Array("in".utf8) + [255, 250]).isEmpty)
        #expect(lines(&framer, [1, 2, 255]).isEmpty)
        #expect(lines(&framer, [240] + Array("fo\r".utf8)) == ["info"])
        #expect(lines(&framer, [0] + Array("x\n".utf8)) == ["x"])
    }

    @Test func tooLongLineStopsTheFramer() {
        var framer = MonitorLineFramer(maxLineLength: 8)
        #expect(lines(&framer, Array("12345678\n".utf8)) == ["12345678"])
        #expect(lines(&framer, Array("123456789".utf8)) == ["<too long>"])
        #expect(framer.failed)
        #expect(framer.bufferedCount == 0)
        #expect(lines(&framer, Array("ok\n".utf8)).isEmpty)
        #expect(framer.finish().isEmpty)
    }

    @Test func finishReturnsAnUnfinishedLine() {
        var framer = MonitorLineFramer(maxLineLength: 100)
        #expect(lines(&framer, Array("info name".utf8)).isEmpty)
        #expect(framer.finish() == [.line(Array("info name".utf8))])
        #expect(framer.finish().isEmpty)
    }
}
