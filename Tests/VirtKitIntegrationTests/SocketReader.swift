import Foundation
import SystemPackage
import VirtKitHost
#if canImport(Glibc)
import Glibc
#endif

/// A blocking reader over a connected socket, with deadlines, for talking to the guest.
final class SocketReader {
    let descriptor: FileDescriptor
    private(set) var received: [UInt8] = []
    /// Every byte read so far, matched or not.
    private(set) var transcript: [UInt8] = []

    init(connectingTo path: String) throws {
        descriptor = try UnixSocket.connect(to: FilePath(path))
    }

    /// Reads `descriptor`, an already connected socket, which the reader closes when it goes.
    init(descriptor: FileDescriptor) {
        self.descriptor = descriptor
    }

    deinit { try? descriptor.close() }

    func send(_ text: String) throws {
        _ = try descriptor.writeAll(Array(text.utf8))
    }

    /// Reads until `marker` has arrived (true) or `timeout` passes (false). Polls without
    /// blocking and sleeps between polls: a test thread blocked in poll(2) would starve the
    /// concurrency pool that virtkitd's console broker moves the bytes on.
    func waitFor(_ marker: String, timeout: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        let needle = Array(marker.utf8)
        var searchFrom = 0
        while Date() < deadline {
            if received.count >= needle.count {
                let end = received.count - needle.count
                if searchFrom <= end {
                    for start in searchFrom...end where received[start..<start + needle.count].elementsEqual(needle) {
                        received.removeSubrange(0..<start + needle.count)
                        return true
                    }
                    searchFrom = end + 1
                }
            }
            var poller = pollfd(fd: descriptor.rawValue, events: Int16(POLLIN), revents: 0)
            let remaining = Int32(max(1, deadline.timeIntervalSinceNow * 1000))
            _ = remaining
            let ready = poll(&poller, 1, 0)
            guard ready >= 0 else { return false }
            if ready == 0 {
                try? await Task.sleep(for: .milliseconds(5))
                continue
            }
            if poller.revents & Int16(POLLIN | POLLHUP) != 0 {
                var buffer = [UInt8](repeating: 0, count: 4096)
                let n = read(descriptor.rawValue, &buffer, buffer.count)
                if n <= 0 { return false }
                received += buffer[0..<n]
                transcript += buffer[0..<n]
            }
        }
        return false
    }

    var text: String { String(decoding: received, as: UTF8.self) }
}
