import VirtKitAPI
#if canImport(Glibc)
import Glibc
#endif

/// Copies standard input to a console or channel socket and the socket to standard output.
///
/// Ends when the server closes, when `escape` (Ctrl-] on a terminal) is typed, or, for
/// standard input that ends (a pipe), once the server closes after the answers to what was
/// sent (virtkitd ends the session a short linger after the client's half-close), or a silent
/// server has had `lingerAfterInput` milliseconds.
public enum ByteRelay {
    /// Ctrl-], the key that leaves a console or monitor, as with virsh.
    public static let escapeKey: UInt8 = 0x1d

    /// What came from the server: its first bytes (up to 1 KiB) and how many in all.
    public struct Received {
        public var head: [UInt8] = []
        public var total = 0
        /// Whether the escape key ended it.
        public var escaped = false
        /// The first write that failed (to standard output or the socket), which ended it.
        public var failure: APIError?

        /// Whether it was only virtkitd's refusal of the attach (`virtkit: the console of ...`).
        public var isRefusal: Bool {
            total == head.count && head.starts(with: Array("virtkit: the console of ".utf8))
                && head.suffix(2).elementsEqual([0x0D, 0x0A]) && !head.dropLast(2).contains(0x0A)
        }
    }

    @discardableResult
    public static func run(socket: Int32, escape: UInt8?, sendInput: Bool, lingerAfterInput: Int32 = -1) -> Received {
        var received = Received()
        var inputOpen = sendInput || escape != nil
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            var fds = [pollfd(fd: socket, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: 0, events: inputOpen ? Int16(POLLIN) : 0, revents: 0)]
            let ready = poll(&fds, inputOpen ? 2 : 1, inputOpen ? -1 : lingerAfterInput)
            if ready < 0 { if errno == EINTR { continue } else { return received } }
            if ready == 0 { return received }
            if fds[0].revents != 0 {
                let n = read(socket, &buffer, buffer.count)
                if n <= 0 { return received }
                if received.head.count < 1024 { received.head += buffer[0..<min(n, 1024 - received.head.count)] }
                received.total += n
                if let failure = write(1, buffer[0..<n]) {
                    received.failure = failure
                    return received
                }
            }
            guard inputOpen, fds[1].revents != 0 else { continue }
            let n = read(0, &buffer, buffer.count)
            if n <= 0 {
                inputOpen = false
                if sendInput { shutdown(socket, Int32(SHUT_WR)) }
                continue
            }
            var chunk = buffer[0..<n]
            var leave = false
            if let escape, let stop = chunk.firstIndex(of: escape) {
                chunk = chunk[..<stop]
                leave = true
                received.escaped = true
            }
            if sendInput, !chunk.isEmpty, let failure = write(socket, chunk) {
                received.failure = failure
                return received
            }
            if leave { return received }
        }
    }

    private static func write(_ fd: Int32, _ bytes: ArraySlice<UInt8>) -> APIError? {
        do {
            try writeAll(fd, bytes)
            return nil
        } catch {
            return error
        }
    }

    public static func writeAll(_ fd: Int32, _ bytes: ArraySlice<UInt8>) throws(APIError) {
        var rest = bytes
        while !rest.isEmpty {
            let n = rest.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw APIError(.operationFailed, "write failed: \(String(cString: strerror(errno)))") }
            rest = rest.dropFirst(n)
        }
    }
}
