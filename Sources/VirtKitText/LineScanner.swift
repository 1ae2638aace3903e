/// Finds the lines of a byte stream that arrives in pieces, for the framing decoders of QEMU's
/// line protocols (QMP, the guest agent): a line ends with `\n`, a `\r` before it is not part of
/// it, and an optional delimiter byte ends a frame on its own (the agent's 0xFF sentinel).
///
/// Scanning resumes where the previous call stopped, so a line arriving in many small reads
/// costs linear time; a line longer than ``maximumLineLength`` is reported as soon as that many
/// bytes are buffered, so a peer that never ends a line cannot exhaust memory.
public struct LineScanner: Sendable {
    /// What ``next(in:)`` found at the start of the bytes.
    public enum Found: Equatable, Sendable {
        /// No whole line (or delimiter) yet.
        case needMoreData
        /// A line: its `length` without the line ending, and the bytes to consume with it.
        /// `blank`: only spaces, tabs and CRs.
        case line(length: Int, consumed: Int, blank: Bool)
        /// The delimiter byte, after `consumed - 1` bytes of a partial line that it cuts off.
        case delimiter(consumed: Int)
        /// Longer than the limit: ended (then `consumed` is the whole line with its ending) or
        /// not yet (`consumed` nil).
        case tooLong(consumed: Int?)
    }

    /// The longest line accepted, in bytes, without its line ending.
    public let maximumLineLength: Int
    /// A byte that ends a frame by itself, nil for none.
    public let delimiter: UInt8?
    /// Bytes from the start already known to hold neither newline nor delimiter.
    private var scanned = 0

    public init(maximumLineLength: Int, delimiter: UInt8? = nil) {
        self.maximumLineLength = maximumLineLength
        self.delimiter = delimiter
    }

    /// Looks for the next line in `bytes` (the unread bytes, the same start as the last call's
    /// unless that call found something, which the caller then consumed).
    public mutating func next<Bytes: RandomAccessCollection>(in bytes: Bytes) -> Found where Bytes.Element == UInt8 {
        let searchStart = bytes.index(bytes.startIndex, offsetBy: min(scanned, bytes.count))
        let delimiter = self.delimiter
        guard let end = bytes[searchStart...].firstIndex(where: { $0 == UInt8(ascii: "\n") || $0 == delimiter }) else {
            scanned = bytes.count
            // One byte of slack for the `\r` that may precede the newline still to come.
            return bytes.count > maximumLineLength + 1 ? .tooLong(consumed: nil) : .needMoreData
        }
        scanned = 0
        let consumed = bytes.distance(from: bytes.startIndex, to: end) + 1
        if bytes[end] != UInt8(ascii: "\n") { return .delimiter(consumed: consumed) }
        var length = consumed - 1
        if length > 0, bytes[bytes.index(before: end)] == UInt8(ascii: "\r") { length -= 1 }
        if length > maximumLineLength { return .tooLong(consumed: consumed) }
        let blank = bytes[bytes.startIndex..<end].allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
        return .line(length: length, consumed: consumed, blank: blank)
    }
}
