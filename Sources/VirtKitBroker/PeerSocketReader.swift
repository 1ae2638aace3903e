#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import Synchronization

/// Reads QEMU's side of a socket chardev without taking bytes before they are logged: it peeks
/// (`MSG_PEEK`), lets the broker log them (``BrokerCore/receivedPeeked(_:consume:)``), and only
/// then consumes them from the socket. Bytes a killed daemon had read but not logged are
/// therefore still in the socket (which the descriptor holder keeps open) for the next daemon.
///
/// NIO reads every byte it is told a socket has, so readiness comes from ``PeerReadiness`` (one
/// epoll set, one-shot) on a copy of the descriptor; the reading itself runs on the broker's
/// event loop, as do ``cancel()`` and the close of the copy, so a drain never touches a closed
/// descriptor. The peer's NIO channel stays for writes (`autoRead` off).
final class PeerSocketReader: Sendable {
    private let descriptor: Int32
    /// Set on the event loop by ``cancel()``; read there by drains.
    private let cancelled = Atomic<Bool>(false)
    /// Bytes read in one go, and reads per turn of the event loop before others get theirs.
    static let chunk = 64 << 10
    static let readsPerTurn = 16

    /// Reads a copy of `socket` for `core`; the caller keeps (and closes) `socket`.
    init?(socket: Int32, core: NIOLoopBound<BrokerCore>, eventLoop: EventLoop) {
        let copy = fcntl(socket, F_DUPFD_CLOEXEC, 0)
        guard copy >= 0 else { return nil }
        descriptor = copy
        let watched = PeerReadiness.shared.watch(copy) { [weak self] in
            eventLoop.execute { self?.drain(core.value) }
        }
        guard watched else {
            close(copy)
            return nil
        }
    }

    /// Stops reading and closes the copy. On the broker's event loop.
    func cancel() {
        guard !cancelled.exchange(true, ordering: .relaxed) else { return }
        PeerReadiness.shared.unwatch(descriptor)
        close(descriptor)
    }

    /// Consumes `count` bytes the peek said are there; how many it took. With a `mark`, the
    /// last byte taken lands there, written by the same `recvmsg` that takes it (see
    /// ``LogCommit``): a daemon killed as that call returns leaves the proof it happened.
    func consume(_ count: Int, mark: UnsafeMutablePointer<UInt8>? = nil) -> Int {
        guard !cancelled.load(ordering: .relaxed) else { return 0 }
        return Self.consume(from: descriptor, count: count, mark: mark)
    }

    /// ``consume(_:mark:)`` on `descriptor`.
    static func consume(from descriptor: Int32, count: Int, mark: UnsafeMutablePointer<UInt8>?) -> Int {
        guard count > 0 else { return 0 }
        var scratch = [UInt8](repeating: 0, count: min(count, Self.chunk))
        var taken = 0
        while taken < count {
            let left = count - taken
            let n = scratch.withUnsafeMutableBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return -1 }
                // The mark takes the last byte only in the call that reaches it.
                let head = min(left, buffer.count)
                guard let mark, head == left else { return recv(descriptor, base, head, Int32(MSG_DONTWAIT)) }
                var parts = [iovec(iov_base: base, iov_len: left - 1), iovec(iov_base: mark, iov_len: 1)]
                return parts.withUnsafeMutableBufferPointer { iov in
                    var message = msghdr()
                    message.msg_iov = iov.baseAddress
                    message.msg_iovlen = 2
                    return recvmsg(descriptor, &message, Int32(MSG_DONTWAIT))
                }
            }
            if n > 0 { taken += n } else if n < 0 && errno == EINTR { continue } else { break }
        }
        return taken
    }

    /// The first `count` bytes waiting in the socket, left there; fewer when fewer wait.
    func peek(_ count: Int) -> [UInt8] {
        guard !cancelled.load(ordering: .relaxed), count > 0 else { return [] }
        var buffer = [UInt8](repeating: 0, count: count)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, count, Int32(MSG_PEEK | MSG_DONTWAIT)) }
            if n < 0 && errno == EINTR { continue }
            return Array(buffer.prefix(max(n, 0)))
        }
    }

    /// On the event loop: peek, log, consume, until the socket is empty (or for a while), then
    /// arm the readiness again.
    private func drain(_ core: BrokerCore) {
        guard !cancelled.load(ordering: .relaxed) else { return }
        var buffer = [UInt8](repeating: 0, count: Self.chunk)
        for _ in 0..<Self.readsPerTurn {
            let n = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, Int32(MSG_PEEK | MSG_DONTWAIT)) }
            if n > 0 {
                core.receivedPeeked(Array(buffer[0..<n])) { mark in _ = consume(n, mark: mark) }
                if cancelled.load(ordering: .relaxed) { return }
                continue
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { break }
            core.peerDidClose(error: n == 0 ? nil : IOError(errnoCode: errno, reason: "recv"))
            cancel()
            return
        }
        PeerReadiness.shared.arm(descriptor)
    }
}
