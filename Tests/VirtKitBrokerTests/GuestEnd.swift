import Foundation
import Synchronization
import SystemPackage
import Testing
import VirtKitBroker

#if canImport(Glibc)
import Glibc
#endif

/// QEMU's side of a chardev, played by the test: one end of a socketpair (the broker gets
/// the other end). Blocking I/O runs on threads of its own, never on the task pool.
final class GuestEnd: Sendable {
    let descriptor: FileDescriptor

    init(descriptor: FileDescriptor) {
        self.descriptor = descriptor
    }

    /// A connected stream socketpair: (the test's end, the other end).
    static func socketPair() throws -> (FileDescriptor, FileDescriptor) {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw TestFailure("socketpair: \(Errno(rawValue: errno))")
        }
        var info = stat()
        if fstat(fds[1], &info) == 0 { GuestEnd.brokerSideInodes.withLock { $0.append(UInt64(info.st_ino)) } }
        return (FileDescriptor(rawValue: fds[0]), FileDescriptor(rawValue: fds[1]))
    }

    /// The inodes of the ends `socketPair()` made for a broker (the second), so a test can prove
    /// the broker closed every one of them.
    static let brokerSideInodes = Mutex<[UInt64]>([])

    /// Writes all of `bytes` (blocking on a thread of its own).
    func write(_ bytes: [UInt8]) async throws {
        let descriptor = descriptor
        try await blocking { _ = try descriptor.writeAll(bytes) }
    }

    /// Reads until `done` holds for what was read, the other side closes, or `timeout`
    /// passes (a liveness bound, not a speed check).
    func read(timeout: Duration = .seconds(60), until done: @escaping @Sendable ([UInt8]) -> Bool) async throws -> [UInt8] {
        try await readDescriptor(descriptor, timeout: timeout, until: done)
    }

    /// Reads until `marker` shows up.
    func read(until marker: String, timeout: Duration = .seconds(60)) async throws -> [UInt8] {
        let needle = Array(marker.utf8)
        return try await read(timeout: timeout) { $0.contains(needle) }
    }

    func close() {
        try? descriptor.close()
    }
}

/// Reads `descriptor` on a thread of its own until `done` holds, EOF, or `timeout`.
func readDescriptor(
    _ descriptor: FileDescriptor, timeout: Duration, until done: @escaping @Sendable ([UInt8]) -> Bool
) async throws -> [UInt8] {
    try await blocking {
        var collected: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        let deadline = ContinuousClock.now + timeout
        while !done(collected), ContinuousClock.now < deadline {
            var poller = pollfd(fd: descriptor.rawValue, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 100)
            if ready < 0, errno == EINTR { continue }
            guard ready > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { read(descriptor.rawValue, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR || errno == EAGAIN { continue }
            guard count > 0 else { break }
            collected.append(contentsOf: buffer[..<count])
        }
        return collected
    }
}

/// Runs `body` on a new thread and waits for it without holding a task-pool thread.
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.start()
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension Array where Element == UInt8 {
    /// Whether `needle` occurs in the array.
    func contains(_ needle: [UInt8]) -> Bool {
        firstRange(of: needle) != nil
    }

    /// Where `needle` first occurs.
    func firstRange(of needle: [UInt8], from start: Int = 0) -> Range<Int>? {
        guard !needle.isEmpty, count >= needle.count else { return nil }
        var index = start
        while index <= count - needle.count {
            guard let first = self[index...].firstIndex(of: needle[0]), first <= count - needle.count else { return nil }
            if self[first..<(first + needle.count)].elementsEqual(needle) { return first..<(first + needle.count) }
            index = first + 1
        }
        return nil
    }
}
