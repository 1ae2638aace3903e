import Testing
import VirtKitText

@Suite("Line scanner")
struct LineScannerTests {
    @Test func linesEndWithNewlineAndLoseTheirCR() {
        var scanner = LineScanner(maximumLineLength: 100)
        #expect(scanner.next(in: Array("abc".utf8)) == .needMoreData)
        #expect(scanner.next(in: Array("abc\r\nrest".utf8)) == .line(length: 3, consumed: 5, blank: false))
        #expect(scanner.next(in: Array(" \t\r\n".utf8)) == .line(length: 2, consumed: 4, blank: true))
        #expect(scanner.next(in: Array("\n".utf8)) == .line(length: 0, consumed: 1, blank: true))
    }

    @Test func theDelimiterEndsAFrameOnItsOwn() {
        var scanner = LineScanner(maximumLineLength: 100, delimiter: 0xFF)
        #expect(scanner.next(in: [0x61, 0x62, 0xFF, 0x0A]) == .delimiter(consumed: 3))
        var plain = LineScanner(maximumLineLength: 100)
        #expect(plain.next(in: [0x61, 0xFF, 0x0A]) == .line(length: 2, consumed: 3, blank: false))
    }

    @Test func tooLongIsSeenBeforeTheLineEnds() {
        var scanner = LineScanner(maximumLineLength: 4)
        #expect(scanner.next(in: Array("abcd\r".utf8)) == .needMoreData)
        #expect(scanner.next(in: Array("abcde\r".utf8)) == .tooLong(consumed: nil))
        var ended = LineScanner(maximumLineLength: 4)
        #expect(ended.next(in: Array("abcde\n".utf8)) == .tooLong(consumed: 6))
        #expect(ended.next(in: Array("abcd\r\n".utf8)) == .line(length: 4, consumed: 6, blank: false))
    }

    @Test func scanningResumesWhereItStopped() {
        var scanner = LineScanner(maximumLineLength: 1000)
        var bytes: [UInt8] = []
        for _ in 0..<500 {
            bytes.append(UInt8(ascii: "x"))
            #expect(scanner.next(in: bytes) == .needMoreData)
        }
        bytes.append(UInt8(ascii: "\n"))
        #expect(scanner.next(in: bytes) == .line(length: 500, consumed: 501, blank: false))
    }
}
