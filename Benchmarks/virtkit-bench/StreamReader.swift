// The broker benchmark's readers: plain blocking socket readers on threads of their own (so
// they never take the cooperative pool the broker's sessions run on), each checking every byte
// against the stream the guest writes.
import Foundation
import Synchronization
import VirtKitHost

#if canImport(Glibc)
import Glibc
#endif

/// Seconds on the monotonic clock.
func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// The bytes the guest sends: `seq 1 13000 | head -c 65536`, repeated. The guest builds its file
/// from the same command, so byte `k` of the stream is `block[k % 65536]`. It holds no `\r`,
/// which starts every notice the broker writes into a client's stream (a gap, the close).
struct BenchPattern: Sendable {
    static let period = 65536
    /// The block twice over, so any run of up to one period starting at any offset is contiguous.
    let doubled: [UInt8]

    init() {
        var block: [UInt8] = []
        block.reserveCapacity(Self.period + 8)
        var number = 1
        while block.count < Self.period {
            block.append(contentsOf: "\(number)\n".utf8)
            number += 1
        }
        block.removeLast(block.count - Self.period)
        doubled = block + block
    }

    /// The guest's shell command that writes the block to `path` (the same bytes as ``init()``).
    static let guestBlockCommand = "seq 1 13000 | head -c 65536"
}

/// Checks a byte stream against ``BenchPattern``, reading the broker's gap notices
/// (`\r\n[virtkit: N bytes skipped]\r\n`) as jumps ahead.
struct PatternVerifier {
    let pattern: BenchPattern
    /// Offset in the guest's stream: bytes matched plus bytes the broker reported skipped.
    private(set) var position = 0
    /// Stream bytes that arrived and matched.
    private(set) var matched = 0
    /// Bytes the broker reported skipped, and in how many gaps.
    private(set) var skipped = 0
    private(set) var gaps = 0
    /// Why the stream stopped matching (verification stops there; bytes are still counted).
    private(set) var failure: String?
    /// Notices other than gaps (the close).
    private(set) var notices: [String] = []
    private var notice: [UInt8] = []
    private var inNotice = false

    init(pattern: BenchPattern, startingAt position: Int = 0) {
        self.pattern = pattern
        self.position = position
    }

    mutating func consume(_ buffer: UnsafeRawBufferPointer) {
        guard failure == nil, let base = buffer.baseAddress else { return }
        var index = 0
        let count = buffer.count
        while index < count, failure == nil {
            if inNotice {
                let byte = base.load(fromByteOffset: index, as: UInt8.self)
                notice.append(byte)
                index += 1
                if notice.count > 200 {
                    failure = "an unterminated notice at stream offset \(position)"
                } else if notice.count >= 5, notice.suffix(3).elementsEqual("]\r\n".utf8) {
                    finishNotice()
                }
                continue
            }
            let rest = count - index
            let carriageReturn = memchr(base + index, 0x0D, rest)
            let runEnd = carriageReturn.map { UnsafeRawPointer($0) - base } ?? count
            match(base + index, runEnd - index)
            index = runEnd
            if carriageReturn != nil, failure == nil {
                inNotice = true
                notice.removeAll(keepingCapacity: true)
            }
        }
    }

    private mutating func match(_ start: UnsafeRawPointer, _ length: Int) {
        var done = 0
        pattern.doubled.withUnsafeBytes { doubled in
            while done < length {
                let offset = position % BenchPattern.period
                let piece = min(length - done, BenchPattern.period)
                if memcmp(doubled.baseAddress! + offset, start + done, piece) != 0 {
                    var at = 0
                    while doubled[offset + at] == start.load(fromByteOffset: done + at, as: UInt8.self) { at += 1 }
                    failure = "the stream differs from the guest's pattern at offset \(position + at)"
                    matched += at
                    return
                }
                position += piece
                matched += piece
                done += piece
            }
        }
    }

    private mutating func finishNotice() {
        inNotice = false
        let text = String(decoding: notice, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        // "[virtkit: 12345 bytes skipped]"
        let prefix = "[virtkit: ", suffix = " bytes skipped]"
        if text.hasPrefix(prefix), text.hasSuffix(suffix),
           let count = Int(text.dropFirst(prefix.count).dropLast(suffix.count)) {
            skipped += count
            position += count
            gaps += 1
        } else {
            notices.append(text)
        }
    }
}

/// What one reader saw.
struct ReaderResult: Sendable {
    /// Bytes read from the socket (pattern, notices, everything).
    var received = 0
    var matched = 0
    var skipped = 0
    var gaps = 0
    var failure: String?
    var notices: [String] = []
    /// Monotonic times of the first byte and of the byte that completed the stream (or of the
    /// end of the socket, or of the abort).
    var firstByte: Double?
    var lastByte: Double?
    /// Whether the whole stream (matched or reported skipped) came through.
    var complete = false
    /// CPU time the reader's thread used (its reads and checks), in seconds.
    var cpuSeconds = 0.0

    /// Matched bytes per second between the first and the last byte.
    var rate: Double {
        guard let firstByte, let lastByte, lastByte > firstByte else { return 0 }
        return Double(matched) / (lastByte - firstByte)
    }
}

/// A thread that reads one socket until the stream's `expected` bytes have come through (or the
/// socket ends, or ``abort()``), checking them against the pattern.
///
/// Thread safety: the thread alone writes the result until it sets `finished` (an atomic, with
/// release ordering); the owner reads the result only after seeing it set (acquire).
final class StreamReader: @unchecked Sendable {
    let descriptor: Int32
    let expected: Int
    private let pattern: BenchPattern
    private let finishedFlag = Atomic<Bool>(false)
    private var outcome = ReaderResult()
    private static let bufferSize = 256 << 10

    init(descriptor: Int32, expected: Int, pattern: BenchPattern) {
        self.descriptor = descriptor
        self.expected = expected
        self.pattern = pattern
    }

    var finished: Bool { finishedFlag.load(ordering: .acquiring) }

    /// The result, once ``finished``.
    var result: ReaderResult {
        precondition(finished)
        return outcome
    }

    func start() {
        // A thread of its own: a blocking read must not hold one of the cooperative threads.
        let thread = Thread { [self] in
            run()
            finishedFlag.store(true, ordering: .releasing)
        }
        thread.start()
    }

    /// Wakes a reader blocked in read(2) (it stops with what it has).
    func abort() {
        shutdown(descriptor, Int32(SHUT_RDWR))
    }

    func close() {
        _ = Glibc.close(descriptor)
    }

    private func run() {
        Thread.current.name = "vkb-reader"  // named for perf and top
        try? ThreadSlice.request(.zero)  // a client, not virtkitd: the kernel's default slice
        let cpuStart = threadCPUSeconds()
        defer { outcome.cpuSeconds = threadCPUSeconds() - cpuStart }
        var verifier = PatternVerifier(pattern: pattern)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.bufferSize, alignment: 64)
        defer { buffer.deallocate() }
        while verifier.position < expected {
            let n = read(descriptor, buffer.baseAddress, buffer.count)
            if n < 0, errno == EINTR { continue }
            if n <= 0 { break }
            if outcome.firstByte == nil { outcome.firstByte = monotonicSeconds() }
            outcome.received += n
            verifier.consume(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            if verifier.failure != nil { break }
        }
        if outcome.lastByte == nil { outcome.lastByte = monotonicSeconds() }
        outcome.matched = verifier.matched
        outcome.skipped = verifier.skipped
        outcome.gaps = verifier.gaps
        outcome.failure = verifier.failure
        outcome.notices = verifier.notices
        outcome.complete = verifier.failure == nil && verifier.position >= expected
    }
}

/// The calling thread's CPU time (user + system), in seconds.
func threadCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
