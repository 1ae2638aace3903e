import NIOCore
import VirtKitText

/// Splits QMP's byte stream into lines: each message ends with `\n` (QEMU writes `\r\n`).
///
/// A trailing `\r` is stripped and blank lines are skipped. A line longer than
/// maximum line length throws ``QMP/Error/lineTooLong`` as soon as that many bytes are
/// buffered without a newline, so a peer that never ends a line cannot exhaust memory.
/// Scanning resumes where the previous call stopped, so a line arriving in many small reads
/// costs linear time.
struct QMPLineDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    /// The longest line accepted, in bytes, without its line ending.
    static let defaultMaximumLineLength = 16 * 1024 * 1024

    private var scanner: LineScanner

    init(maximumLineLength: Int = QMPLineDecoder.defaultMaximumLineLength) {
        scanner = LineScanner(maximumLineLength: maximumLineLength)
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let line = try nextLine(&buffer) else { return .needMoreData }
        if line.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(line)) }
        return .continue
    }

    mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        // Whole lines still buffered are delivered; a final unterminated fragment is dropped.
        try decode(context: context, buffer: &buffer)
    }

    /// Takes the next complete line (without `\r\n`) off `buffer`; nil when there is none yet.
    /// An empty line (a blank or whitespace-only one) comes back as an empty buffer.
    mutating func nextLine(_ buffer: inout ByteBuffer) throws(QMP.Error) -> ByteBuffer? {
        switch scanner.next(in: buffer.readableBytesView) {
        case .needMoreData, .delimiter: return nil
        case .tooLong: throw .lineTooLong
        case .line(let length, let consumed, let blank):
            let line = buffer.getSlice(at: buffer.readerIndex, length: length) ?? ByteBuffer()
            buffer.moveReaderIndex(forwardBy: consumed)
            return blank ? ByteBuffer() : line
        }
    }
}

/// Writes each outgoing ``QMP/Value`` as compact JSON and a newline.
struct QMPMessageEncoder: MessageToByteEncoder {
    typealias OutboundIn = QMP.Value

    func encode(data: QMP.Value, out: inout ByteBuffer) throws {
        out.writeBytes(data.jsonBytes)
        out.writeInteger(UInt8(ascii: "\n"))
    }
}
