#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import NIOCore
import Synchronization

/// Reads QEMU's side of a socket chardev without taking bytes before they are logged: it peeks
/// (`MSG_PEEK`), lets the broker log them (``BrokerCore/receivedPeeked(_:consume:)``), and only
/// then consumes them from the socket. Bytes a killed daemon had read but not logged are
/// therefore still in the socket (which the descriptor holder keeps open) for the next daemon.
///
/// NIO reads every byte it is told a socket has, so readiness comes from a dispatch source on a
/// copy of the descriptor; the reading itself runs on the broker's event loop. The peer's NIO
/// channel stays for writes (`autoRead` off).
///
/// `@unchecked Sendable`: a dispatch source is thread-safe, and the suspension state that must
/// agree with it is changed only under ``state``'s lock.
final class PeerSocketReader: @unchecked Sendable {
    private let descriptor: Int32
    private let source: DispatchSourceRead
    /// Whether the source is suspended (while a drain runs) and whether it is cancelled.
    private let state = Mutex<(suspended: Bool, cancelled: Bool)>((false, false))
    /// Bytes read in one go, and reads per turn of the event loop before others get theirs.
    static let chunk = 64 << 10
    static let readsPerTurn = 16

    /// Reads a copy of `socket` for `core`; the caller keeps (and closes) `socket`.
    init?(socket: Int32, core: NIOLoopBound<BrokerCore>, eventLoop: EventLoop) {
        let copy = fcntl(socket, F_DUPFD_CLOEXEC, 0)
        guard copy >= 0 else { return nil }
        descriptor = copy
        source = DispatchSource.makeReadSource(fileDescriptor: copy, queue: DispatchQueue(label: "virtkit.peer-reader"))
        source.setCancelHandler { close(copy) }
        source.setEventHandler { [weak self] in
            guard let self else { return }
            let scheduled = self.state.withLock { state -> Bool in
                guard !state.cancelled, !state.suspended else { return false }
                self.source.suspend()
                state.suspended = true
                return true
            }
            if scheduled { eventLoop.execute { self.drain(core.value) } }
        }
        source.resume()
    }

    /// Stops reading (the descriptor copy is closed once the source has wound down).
    func cancel() {
        let resume = state.withLock { state -> Bool in
            guard !state.cancelled else { return false }
            state.cancelled = true
            source.cancel()
            defer { state.suspended = false }
            return state.suspended
        }
        // A suspended source never runs its cancel handler.
        if resume { source.resume() }
    }

    /// Consumes `count` bytes the peek said are there; how many it took.
    func consume(_ count: Int) -> Int {
        var scratch = [UInt8](repeating: 0, count: min(count, Self.chunk))
        var taken = 0
        while taken < count {
            let n = scratch.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, min(count - taken, $0.count), Int32(MSG_DONTWAIT)) }
            if n > 0 { taken += n } else if n < 0 && errno == EINTR { continue } else { break }
        }
        return taken
    }

    /// On the event loop: peek, log, consume, until the socket is empty (or for a while), then
    /// wait for readiness again.
    private func drain(_ core: BrokerCore) {
        var buffer = [UInt8](repeating: 0, count: Self.chunk)
        for _ in 0..<Self.readsPerTurn {
            let n = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, Int32(MSG_PEEK | MSG_DONTWAIT)) }
            if n > 0 {
                core.receivedPeeked(Array(buffer[0..<n])) { _ = consume(n) }
                continue
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { break }
            core.peerDidClose(error: n == 0 ? nil : IOError(errnoCode: errno, reason: "recv"))
            cancel()
            return
        }
        let resume = state.withLock { state -> Bool in
            guard !state.cancelled, state.suspended else { return false }
            state.suspended = false
            return true
        }
        if resume { source.resume() }
    }
}
