import VirtKitText
/// The answer to one HTTP/1.1 request, read from bytes as they arrive: the status line, the
/// headers, then a body framed by Content-Length, by chunked transfer coding, or by the end of
/// the connection. A plain state machine (no I/O), so every framing is tested without a socket.
///
/// The front's own reader rather than NIO's codec: in a process that makes one request, NIO's
/// pipeline set-up alone cost more than the request, most of it first-use generic metadata
/// (docs/performance.md).
struct HTTPResponseReader {
    enum Failure: Error, Equatable, CustomStringConvertible {
        case malformed(String)
        case truncated

        var description: String {
            switch self {
            case .malformed(let what): return "malformed HTTP answer: \(what)"
            case .truncated: return "the connection closed in the middle of the answer"
            }
        }
    }

    private enum Framing {
        case length(Int)
        case chunked
        case untilClose
    }

    private(set) var status: Int?
    private(set) var body: [UInt8] = []
    private(set) var isComplete = false
    /// The Content-Location header (virtkitd names a domain it defined there).
    private(set) var contentLocation: String?
    private var buffer: [UInt8] = []
    private var framing: Framing?
    /// Chunked: bytes still to take of the current chunk (nil: a size line is next).
    private var chunkRemaining: Int?

    /// The longest head accepted (status line and headers).
    static let maximumHeadSize = 64 << 10

    mutating func receive(_ bytes: some Collection<UInt8>) throws(Failure) {
        guard !isComplete else { return }
        buffer.append(contentsOf: bytes)
        if framing == nil { try parseHead() }
        if framing != nil { try parseBody() }
    }

    /// The connection ended: complete when the framing allows it.
    mutating func finish() throws(Failure) {
        guard !isComplete else { return }
        guard status != nil, case .untilClose = framing else { throw .truncated }
        body += buffer
        buffer = []
        isComplete = true
    }

    private mutating func parseHead() throws(Failure) {
        guard let end = Self.find([13, 10, 13, 10], in: buffer[...]) else {
            if buffer.count > Self.maximumHeadSize { throw .malformed("head longer than \(Self.maximumHeadSize) bytes") }
            return
        }
        // Byte by byte, ASCII only: String's splitting and case mapping cost this one-request
        // process more first-use generic metadata than the rest of the request.
        let head = Array(buffer[..<end])
        buffer.removeFirst(end + 4)
        var lineStart = 0
        var length: Int?
        var chunked = false
        while lineStart <= head.count {
            let lineEnd = Self.find([13, 10], in: head[lineStart...]).map { lineStart + $0 } ?? head.count
            let line = head[lineStart..<lineEnd]
            lineStart = lineEnd + 2
            if status == nil {
                status = try Self.statusCode(line)
                continue
            }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                throw .malformed("header line '\(String(decoding: line, as: UTF8.self))'")
            }
            let name = line[..<colon]
            let value = line[(colon + 1)...].trimmingBlanks
            if Self.equalsLowercased(name, "content-length") {
                guard let n = Int(String(decoding: value, as: UTF8.self)), n >= 0 else {
                    throw .malformed("Content-Length '\(String(decoding: value, as: UTF8.self))'")
                }
                length = n
            } else if Self.equalsLowercased(name, "transfer-encoding") {
                chunked = Self.equalsLowercased(value.suffix(7), "chunked")
            } else if Self.equalsLowercased(name, "content-location") {
                contentLocation = String(decoding: value, as: UTF8.self)
            }
        }
        framing = chunked ? .chunked : length.map(Framing.length) ?? .untilClose
    }

    /// The code of a status line `HTTP/1.x NNN reason`.
    private static func statusCode(_ line: ArraySlice<UInt8>) throws(Failure) -> Int {
        let bytes = Array(line)
        let prefix = Array("HTTP/1.".utf8)
        var code = 0
        var digits = 0
        if bytes.count >= prefix.count + 2, bytes.starts(with: prefix), let space = bytes.firstIndex(of: 32) {
            var i = space + 1
            while i < bytes.count, (48...57).contains(bytes[i]), digits < 4 {
                code = code * 10 + Int(bytes[i] - 48)
                digits += 1
                i += 1
            }
            if i < bytes.count, bytes[i] != 32 { digits = 0 }
        }
        guard digits == 3, (100...599).contains(code) else {
            throw .malformed("status line '\(String(decoding: line, as: UTF8.self))'")
        }
        return code
    }

    /// Whether `bytes`, ASCII letters lowercased, equal `lowercase`.
    private static func equalsLowercased(_ bytes: ArraySlice<UInt8>, _ lowercase: String) -> Bool {
        var other = lowercase.utf8.makeIterator()
        for byte in bytes {
            let folded = (65...90).contains(byte) ? byte + 32 : byte
            guard other.next() == folded else { return false }
        }
        return other.next() == nil
    }

    private mutating func parseBody() throws(Failure) {
        switch framing {
        case .length(let n):
            if buffer.count >= n {
                body = Array(buffer.prefix(n))
                buffer = []
                isComplete = true
            }
        case .chunked:
            while !isComplete {
                if let remaining = chunkRemaining {
                    // The chunk's data, then its CRLF.
                    guard buffer.count >= remaining + 2 else { return }
                    body += buffer[..<remaining]
                    guard buffer[remaining] == 13, buffer[remaining + 1] == 10 else { throw .malformed("chunk not ended by CRLF") }
                    buffer.removeFirst(remaining + 2)
                    chunkRemaining = nil
                } else {
                    guard let end = Self.find([13, 10], in: buffer[...]) else {
                        if buffer.count > 1024 { throw .malformed("chunk size line too long") }
                        return
                    }
                    let line = String(decoding: buffer[..<end], as: UTF8.self)
                    let digits = line.split(separator: ";").first.map { $0.trimmingBlanks } ?? ""
                    guard let size = Int(digits, radix: 16), size >= 0 else { throw .malformed("chunk size '\(line)'") }
                    if size == 0 {
                        // Trailers are not used by virtkitd: the last chunk ends the answer.
                        isComplete = true
                        buffer = []
                        return
                    }
                    buffer.removeFirst(end + 2)
                    chunkRemaining = size
                }
            }
        case .untilClose, nil:
            return
        }
    }

    private static func find(_ needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var i = haystack.startIndex
        while i <= haystack.endIndex - needle.count {
            if haystack[i] == needle[0], haystack[i..<(i + needle.count)].elementsEqual(needle) { return i - haystack.startIndex }
            i += 1
        }
        return nil
    }
}
