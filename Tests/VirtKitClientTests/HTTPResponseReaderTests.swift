import Testing
@testable import VirtKitClient

/// The front's HTTP answer reader: every framing virtkitd (Hummingbird) may use, fed whole and
/// one byte at a time, and answers that must be refused.
@Suite struct HTTPResponseReaderTests {
    /// Feeds `text` in pieces of `step` bytes, then the end of the connection.
    func read(_ text: String, step: Int = .max) throws(HTTPResponseReader.Failure) -> HTTPResponseReader {
        var reader = HTTPResponseReader()
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count, !reader.isComplete {
            let end = min(bytes.count, offset + step)
            try reader.receive(bytes[offset..<end])
            offset = end
        }
        try reader.finish()
        return reader
    }

    @Test(arguments: [1, 3, 7, Int.max])
    func contentLengthBody(step: Int) throws {
        let reader = try read("HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"a\":\"bc\"}\nEXTRA", step: step)
        #expect(reader.status == 201)
        #expect(String(decoding: reader.body, as: UTF8.self) == "{\"a\":\"bc\"}\n")
    }

    @Test(arguments: [1, 2, 5, Int.max])
    func chunkedBody(step: Int) throws {
        let reader = try read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n6;ext=1\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\n\r\n", step: step)
        #expect(reader.status == 200)
        #expect(String(decoding: reader.body, as: UTF8.self) == "Wikipedia in \r\n\r\nchunks.")
    }

    @Test func bodyUntilTheConnectionCloses() throws {
        let reader = try read("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n{\"error\":{}}")
        #expect(reader.status == 404)
        #expect(reader.body == Array("{\"error\":{}}".utf8))
    }

    @Test func headerNamesAreCaseInsensitive() throws {
        let reader = try read("HTTP/1.1 200 OK\r\ncontent-LENGTH:  2 \r\n\r\nokNOT")
        #expect(reader.body == Array("ok".utf8))
        let chunked = try read("HTTP/1.1 200 OK\r\nTRANSFER-encoding: gzip, Chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n")
        #expect(chunked.body == Array("ok".utf8))
    }

    @Test(arguments: [1, 4, Int.max])
    func contentLocationAndAStatusLineWithoutReason(step: Int) throws {
        let reader = try read("HTTP/1.1 200\r\nContent-Location:\t/v1/domains/a%20b \r\nContent-Length: 0\r\n\r\n", step: step)
        #expect(reader.status == 200)
        #expect(reader.contentLocation == "/v1/domains/a%20b")
        #expect(try read("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n").contentLocation == nil)
    }

    @Test(arguments: ["HTTP/1.1 2000 OK", "HTTP/1.1 20 OK", "HTTP/1.1 099 Low", "HTTP/2 200 OK", "HTTP/1.1 200x OK", "HTTP/1.1"])
    func badStatusLines(line: String) {
        #expect(throws: HTTPResponseReader.Failure.malformed("status line '\(line)'")) {
            _ = try read(line + "\r\nContent-Length: 0\r\n\r\n")
        }
    }

    @Test func truncatedAnswersAreErrors() {
        #expect(throws: HTTPResponseReader.Failure.truncated) { _ = try read("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort") }
        #expect(throws: HTTPResponseReader.Failure.truncated) { _ = try read("HTTP/1.1 200 OK\r\nContent-") }
        #expect(throws: HTTPResponseReader.Failure.truncated) { _ = try read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab") }
        #expect(throws: HTTPResponseReader.Failure.truncated) { _ = try read("") }
    }

    @Test func malformedAnswersAreNamed() {
        #expect(throws: HTTPResponseReader.Failure.malformed("status line 'SSH-2.0-OpenSSH'")) {
            _ = try read("SSH-2.0-OpenSSH\r\n\r\n")
        }
        #expect(throws: HTTPResponseReader.Failure.malformed("Content-Length 'x'")) {
            _ = try read("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n")
        }
        #expect(throws: HTTPResponseReader.Failure.malformed("chunk size 'zz'")) {
            _ = try read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
        }
        #expect(throws: HTTPResponseReader.Failure.malformed("header line 'no colon here'")) {
            _ = try read("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n")
        }
    }

    @Test func anEndlessHeadIsRefused() {
        let head = "HTTP/1.1 200 OK\r\n" + String(repeating: "X-Filler: 0123456789abcdef\r\n", count: 3000)
        #expect(throws: HTTPResponseReader.Failure.malformed("head longer than 65536 bytes")) { _ = try read(head) }
    }
}
