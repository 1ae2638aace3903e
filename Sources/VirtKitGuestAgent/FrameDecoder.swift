import NIOCore
import VirtKitText

/// What the agent's byte stream carries: a line (one JSON reply) or the 0xFF sentinel that
/// `guest-sync-delimited` puts before its reply.
enum GuestAgentFrame: Equatable {
    /// The sentinel byte; whatever partial line preceded it has been dropped.
    case sentinel
    /// One line, without its `\n` (or `\r\n`).
    case line(ByteBuffer)
}

/// Splits the agent's byte stream into lines and sentinels.
///
/// A 0xFF byte (which UTF-8 JSON never contains) resets the framing: the partial line before
/// it is dropped, as the protocol asks of a client's lexer. Blank lines are skipped. A line
/// longer than the maximum line length throws ``GuestAgent/Error/malformed(raw:)`` as soon as that
/// many bytes are buffered, so an agent that never ends a line cannot exhaust memory. Scanning
/// resumes where the previous call stopped, so a line in many small reads costs linear time.
struct GuestAgentFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = GuestAgentFrame

    /// The longest line accepted, in bytes (libvirt allows 10 MiB).
    static let defaultMaximumLineLength = 16 * 1024 * 1024

    private var scanner: LineScanner

    init(maximumLineLength: Int = GuestAgentFrameDecoder.defaultMaximumLineLength) {
        scanner = LineScanner(maximumLineLength: maximumLineLength, delimiter: 0xFF)
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        switch try next(&buffer) {
        case .needMoreData: return .needMoreData
        case .skipped: return .continue
        case .frame(let frame):
            context.fireChannelRead(wrapInboundOut(frame))
            return .continue
        }
    }

    mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        // Whole frames still buffered are delivered; a final unterminated fragment is dropped.
        try decode(context: context, buffer: &buffer)
    }

    /// What ``next(_:)`` found.
    enum Step: Equatable {
        /// No whole frame is buffered yet.
        case needMoreData
        /// A blank line was consumed.
        case skipped
        case frame(GuestAgentFrame)
    }

    /// Takes the next frame off `buffer`.
    mutating func next(_ buffer: inout ByteBuffer) throws(GuestAgent.Error) -> Step {
        let view = buffer.readableBytesView
        switch scanner.next(in: view) {
        case .needMoreData: return .needMoreData
        case .delimiter(let consumed):
            buffer.moveReaderIndex(forwardBy: consumed)
            return .frame(.sentinel)
        case .tooLong(let consumed):
            let excerpt = GuestAgent.Error.excerpt(view.prefix(256))
            if let consumed { buffer.moveReaderIndex(forwardBy: consumed) }
            throw .malformed(raw: excerpt + "... (line too long)")
        case .line(let length, let consumed, let blank):
            let line = buffer.getSlice(at: buffer.readerIndex, length: length) ?? ByteBuffer()
            buffer.moveReaderIndex(forwardBy: consumed)
            return blank ? .skipped : .frame(.line(line))
        }
    }
}
