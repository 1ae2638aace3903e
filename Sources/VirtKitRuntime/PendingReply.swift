import Synchronization
import VirtKitQMP

/// The reply to one QMP command sent now and awaited later: the client's callback hands it over,
/// and the one task that awaits ``value`` resumes straight from the connection's thread, with
/// no task in between. Safe from any thread: its state lives in a `Mutex`.
final class PendingReply: Sendable {
    typealias Reply = Result<QMP.Value, QMP.Error>
    private struct State {
        var reply: Reply?
        var waiter: CheckedContinuation<Reply, Never>?
    }
    private let state = Mutex(State())

    /// Sends `command` on `qmp`; its reply is kept for ``value``.
    init(_ command: String, on qmp: QMP.Client, timeout: Duration) {
        qmp.execute(command, timeout: timeout) { [self] reply in fulfil(reply) }
    }

    private func fulfil(_ reply: Reply) {
        let waiter = state.withLock { state -> CheckedContinuation<Reply, Never>? in
            guard state.reply == nil else { return nil }
            state.reply = reply
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: reply)
    }

    /// The reply (a failure as `QMP.Error`: QEMU's error, the timeout, or the connection's end).
    /// For one awaiting task.
    var value: Reply {
        get async {
            await withCheckedContinuation { (continuation: CheckedContinuation<Reply, Never>) in
                let reply = state.withLock { state -> Reply? in
                    if state.reply == nil { state.waiter = continuation }
                    return state.reply
                }
                if let reply { continuation.resume(returning: reply) }
            }
        }
    }
}
