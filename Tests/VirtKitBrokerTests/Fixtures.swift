import Foundation
import NIOCore
import Synchronization
import SystemPackage
import Testing
import VirtKitBroker

#if canImport(Glibc)
import Glibc
#endif

/// A broker over a socketpair, with the test playing QEMU on the other end.
struct BrokerFixture {
    let broker: ChardevBroker
    let guest: GuestEnd

    static func start(
        scrollback: Int = 1 << 20, queueLimit: Int = 64 << 20, log: ChardevBroker.LogConfiguration? = nil,
        maxClients: Int = 64
    ) async throws -> BrokerFixture {
        let (guestSide, brokerSide) = try GuestEnd.socketPair()
        let configuration = ChardevBroker.Configuration(
            name: "testvm", log: log, scrollbackSize: scrollback, clientQueueLimit: queueLimit, maxClients: maxClients)
        let broker = try await ChardevBroker.start(peer: brokerSide, configuration: configuration)
        return BrokerFixture(broker: broker, guest: GuestEnd(descriptor: guestSide))
    }

    /// Closes the guest's end, waits until the broker has handled all it wrote, and stops.
    func finish() async {
        guest.close()
        await broker.waitUntilPeerCloses()
        await broker.stop()
    }
}

/// A byte count shared between a reading task and the test.
final class Counter: Sendable {
    private let storage = Mutex(0)

    var value: Int { storage.withLock { $0 } }

    func add(_ count: Int) { storage.withLock { $0 += count } }

    func set(_ count: Int) { storage.withLock { $0 = count } }
}

/// Everything one client read: bytes in order, gaps at their place, notices, the close.
struct Transcript: Sendable {
    var bytes: [UInt8] = []
    /// (bytes read before the gap, bytes skipped).
    var gaps: [(at: Int, skipped: Int)] = []
    var notices: [BrokerOutput] = []
    var closed: CloseReason?

    var skipped: Int { gaps.reduce(0) { $0 + $1.skipped } }

    mutating func add(_ output: BrokerOutput) {
        switch output {
        case .bytes(let chunk): bytes.append(contentsOf: chunk)
        case .gap(let skipped): gaps.append((bytes.count, skipped))
        case .penLost: notices.append(output)
        case .closed(let reason): closed = reason
        }
    }
}

/// Reads `client` to its end; `progress` counts bytes as they arrive.
func drain(_ client: BrokerClient, progress: Counter? = nil) async -> Transcript {
    var transcript = Transcript()
    for await output in client.output {
        transcript.add(output)
        if case .bytes(let chunk) = output { progress?.add(chunk.count) }
    }
    return transcript
}

/// Reads `client` until `done` holds for the transcript (or the stream ends).
func read(_ client: BrokerClient, until done: (Transcript) -> Bool) async -> Transcript {
    var transcript = Transcript()
    if done(transcript) { return transcript }
    for await output in client.output {
        transcript.add(output)
        if done(transcript) { break }
    }
    return transcript
}

/// Numbered lines `line 0000042 ~~~~~\n` with lengths varying 14 to 53 bytes, at least
/// `size` bytes in all (whole lines).
func numberedLines(atLeast size: Int, from first: Int = 0) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(size + 64)
    var number = first
    var digits = [UInt8](repeating: 0, count: 7)
    while out.count < size {
        var value = number
        for index in stride(from: 6, through: 0, by: -1) {
            digits[index] = UInt8(ascii: "0") + UInt8(value % 10)
            value /= 10
        }
        out.append(contentsOf: "line ".utf8)
        out.append(contentsOf: digits)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: repeatElement(UInt8(ascii: "~"), count: number % 40))
        out.append(UInt8(ascii: "\n"))
        number += 1
    }
    return out
}

/// Whether `a` and `b` hold the same bytes (memcmp, fast in debug builds).
func sameBytes(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>) -> Bool {
    guard a.count == b.count else { return false }
    return a.withUnsafeBytes { x in
        b.withUnsafeBytes { y in
            guard let left = x.baseAddress, let right = y.baseAddress else { return true }
            return memcmp(left, right, x.count) == 0
        }
    }
}

/// Checks that `transcript` is `stream` read in order with its gaps at their place: every
/// byte either read or counted in a gap, exactly once.
func expectExact(_ transcript: Transcript, of stream: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
    var streamOffset = 0
    var readOffset = 0
    for gap in transcript.gaps + [(at: transcript.bytes.count, skipped: 0)] {
        let length = gap.at - readOffset
        guard streamOffset + length <= stream.count,
            sameBytes(transcript.bytes[readOffset..<gap.at], stream[streamOffset..<(streamOffset + length)])
        else {
            Issue.record("bytes read at \(readOffset) differ from the stream at \(streamOffset)", sourceLocation: sourceLocation)
            return
        }
        readOffset = gap.at
        streamOffset += length + gap.skipped
    }
    #expect(streamOffset == stream.count, "read plus skipped must cover the stream", sourceLocation: sourceLocation)
}

/// A short directory in /tmp, removed by the caller.
func makeTemporaryDirectory() throws -> String {
    var template = Array("/tmp/vkb-XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else { throw TestFailure("mkdtemp: \(Errno(rawValue: errno))") }
    return String(cString: made)
}

/// The file's bytes, empty when it does not exist.
func contents(_ path: String) -> [UInt8] {
    (FileManager.default.contents(atPath: path)).map { [UInt8]($0) } ?? []
}
