import CVirtKitHost
import Foundation
import Synchronization

/// Tells when QEMU's side of a socket chardev has bytes, without reading them: one epoll set
/// and one thread for every ``PeerSocketReader`` of the process. Each descriptor is armed
/// one-shot; its reader drains it and arms it again, and arming re-checks the level, so bytes
/// that came while it drained are never missed.
final class PeerReadiness: Sendable {
    static let shared: PeerReadiness = {
        let readiness = PeerReadiness()
        let thread = Thread { readiness.run() }
        thread.name = "virtkit-peer-readiness"
        thread.start()
        return readiness
    }()

    private let epoll: Int32
    /// What to call when a descriptor is readable (or hung up), by descriptor.
    private let handlers = Mutex<[Int32: @Sendable () -> Void]>([:])

    private init() {
        epoll = vk_epoll_create()
    }

    /// Calls `ready` (on this type's thread) once `fd` is readable; ``arm(_:)`` for the next time.
    func watch(_ fd: Int32, ready: @escaping @Sendable () -> Void) -> Bool {
        handlers.withLock { $0[fd] = ready }
        guard epoll >= 0, vk_epoll_watch(epoll, fd, 0) == 0 else {
            handlers.withLock { $0[fd] = nil }
            return false
        }
        return true
    }

    /// Watches `fd` again after a drain (fires at once if it still has bytes).
    func arm(_ fd: Int32) {
        _ = vk_epoll_watch(epoll, fd, 1)
    }

    /// Stops watching `fd` (before it is closed).
    func unwatch(_ fd: Int32) {
        handlers.withLock { $0[fd] = nil }
        _ = vk_epoll_unwatch(epoll, fd)
    }

    private func run() {
        var ready = [Int32](repeating: -1, count: 64)
        while epoll >= 0 {
            let count = vk_epoll_wait(epoll, &ready, Int32(ready.count))
            if count == -EINTR { continue }
            guard count >= 0 else { return }
            for fd in ready.prefix(Int(count)) {
                handlers.withLock { $0[fd] }?()
            }
        }
    }
}
