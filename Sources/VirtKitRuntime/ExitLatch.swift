import Synchronization

/// A one-way latch: opened once (when QEMU exits), awaited by any number of tasks, each with its
/// own deadline. Safe from any thread: its state lives in a `Mutex`.
final class ExitLatch: Sendable {
    private struct State {
        var open = false
        var waiters: [Int: CheckedContinuation<Bool, Never>] = [:]
        var nextKey = 0
    }
    private let state = Mutex(State())

    var isOpen: Bool { state.withLock { $0.open } }

    func open() {
        let waiters = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            state.open = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: true) }
    }

    /// True once open; false if `timeout` passes first (nil: no deadline).
    func wait(timeout: Duration?) async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let key: Int? = state.withLock { state in
                if state.open { return nil }
                let key = state.nextKey
                state.nextKey += 1
                state.waiters[key] = continuation
                return key
            }
            guard let key else { return continuation.resume(returning: true) }
            guard let timeout else { return }
            // An unstructured task: the deadline must fire while this caller is suspended.
            Task {
                try? await Task.sleep(for: timeout)
                let expired = self.state.withLock { $0.waiters.removeValue(forKey: key) }
                expired?.resume(returning: false)
            }
        }
    }
}
