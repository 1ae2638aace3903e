import NIOCore
import Synchronization

/// The shared heart of a ``QMP/Client``: the protocol state machine, the waiting calls, the
/// event subscribers and the channel, behind one `Mutex`.
///
/// Thread safety: every piece of mutable state lives in ``Core`` inside a `Mutex`. Callers on
/// any thread (the public async methods) and the channel's event loop (inbound messages,
/// timers, the channel closing) take the lock only to consult the state machine and update
/// the books; what must then happen (resuming continuations, yielding events, writing,
/// closing the channel) is collected as ``Effect`` values and carried out after the lock is
/// released, so no continuation is resumed and no NIO call made while holding it. Inbound
/// messages are handled on the single event loop in arrival order, so events reach every
/// subscriber in QEMU's order.
final class QMPConnection: Sendable {
    /// Where a command's result goes: an async caller's continuation, or a callback.
    enum Reply: Sendable {
        case continuation(CheckedContinuation<Result<QMP.Value, QMP.Error>, Never>)
        /// Called once, without the lock held: on the channel's event loop for a reply, a
        /// timeout or the connection's end; on the caller's thread when the command cannot
        /// be sent at all.
        case callback(@Sendable (Result<QMP.Value, QMP.Error>) -> Void)

        func deliver(_ result: Result<QMP.Value, QMP.Error>) {
            switch self {
            case .continuation(let continuation): continuation.resume(returning: result)
            case .callback(let callback): callback(result)
            }
        }
    }

    /// A waiting command: where its reply goes and its timeout.
    struct Call: Sendable {
        var reply: Reply
        var timer: Scheduled<Void>?
    }

    typealias ConnectContinuation = CheckedContinuation<Result<QMP.Greeting, QMP.Error>, Never>

    struct Core: ~Copyable {
        var machine = QMPStateMachine<Call>()
        var channel: Channel?
        /// The connect call, while it waits for negotiation to finish.
        var connectWaiter: ConnectContinuation?
        /// How negotiation ended, for a connect call that starts waiting only afterwards.
        var handshakeResult: Result<QMP.Greeting, QMP.Error>?
        var handshakeTimer: Scheduled<Void>?
        var subscribers: [Int: AsyncStream<QMP.Event>.Continuation] = [:]
        var nextSubscriber = 0
        var closeWaiters: [CheckedContinuation<Void, Never>] = []
    }

    /// Work to do once the lock is released.
    enum Effect: Sendable {
        case resume(Reply, Result<QMP.Value, QMP.Error>)
        case resumeConnect(ConnectContinuation, Result<QMP.Greeting, QMP.Error>)
        case resumeClosed([CheckedContinuation<Void, Never>])
        case cancel(Scheduled<Void>)
        case yield(QMP.Event, to: [AsyncStream<QMP.Event>.Continuation])
        case finish([AsyncStream<QMP.Event>.Continuation])
        case write(QMP.Value, Channel)
        /// Write command `id`; a failed write fails its call.
        case writeCommand(QMP.Value, Channel, id: Int64)
        case close(Channel)
    }

    private let core: Mutex<Core>

    init(pipelinesNegotiation: Bool = false) {
        var core = Core()
        core.machine = QMPStateMachine(pipelinesNegotiation: pipelinesNegotiation)
        self.core = Mutex(core)
    }

    // MARK: Channel side (event loop)

    /// Records the channel, from the bootstrap's initializer before any byte is read.
    func attach(_ channel: Channel) {
        core.withLock { $0.channel = channel }
    }

    func received(_ message: QMP.Value) {
        run(core.withLock { core in Self.apply(core.machine.received(message), to: &core) })
    }

    func receivedMalformed(raw: String) {
        run(core.withLock { core in Self.apply(core.machine.receivedMalformed(raw: raw), to: &core) })
    }

    func channelClosed() {
        run(core.withLock { core in Self.apply(core.machine.connectionClosed(), to: &core) })
    }

    /// A fatal error in the pipeline (a too-long line, a read error): close with it.
    func failed(_ error: QMP.Error) {
        run(core.withLock { core in Self.apply(core.machine.close(error), to: &core) })
    }

    // MARK: Client side (any thread)

    /// Waits until negotiation ends or `deadline` passes.
    func handshake(deadline: NIODeadline) async -> Result<QMP.Greeting, QMP.Error> {
        await withCheckedContinuation { (continuation: ConnectContinuation) in
            let effects: [Effect] = core.withLock { core in
                if let result = core.handshakeResult { return [.resumeConnect(continuation, result)] }
                core.connectWaiter = continuation
                if let channel = core.channel {
                    core.handshakeTimer = channel.eventLoop.scheduleTask(deadline: deadline) { [weak self] () -> Void in
                        self?.handshakeTimedOut()
                    }
                }
                return []
            }
            run(effects)
        }
    }

    private func handshakeTimedOut() {
        run(core.withLock { core in Self.apply(core.machine.handshakeTimedOut(), to: &core) })
    }

    typealias Start = (inout QMPStateMachine<Call>, Call) -> QMPStateMachine<Call>.StartAction

    /// Sends a command built by `start` and waits for its reply or `timeout`.
    func call(timeout: Duration, _ start: Start) async -> Result<QMP.Value, QMP.Error> {
        await withCheckedContinuation { continuation in
            call(timeout: timeout, reply: .continuation(continuation), start)
        }
    }

    /// Sends a command built by `start` and hands its reply (or the timeout, or the failure)
    /// to `reply` (see ``Reply/callback(_:)`` for where it runs). Called on the channel's
    /// event loop, the write and the timer need no hop to it.
    func call(timeout: Duration, reply: Reply, _ start: Start) {
        let effects: [Effect] = core.withLock { core in
            switch start(&core.machine, Call(reply: reply, timer: nil)) {
            case .fail(let call, let error):
                return [.resume(call.reply, .failure(error))]
            case .send(let id, let message):
                guard let channel = core.channel else {
                    return Self.apply(core.machine.sendFailed(id: id), to: &core)
                }
                let timer = channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) { [weak self] () -> Void in
                    self?.timedOut(id: id)
                }
                core.machine.modifyWaiter(id: id) { $0.timer = timer }
                return [.writeCommand(message, channel, id: id)]
            }
        }
        run(effects)
    }

    private func sendFailed(id: Int64) {
        run(core.withLock { core in Self.apply(core.machine.sendFailed(id: id), to: &core) })
    }

    private func timedOut(id: Int64) {
        run(core.withLock { core in Self.apply(core.machine.timedOut(id: id), to: &core) })
    }

    /// Every event from now on; a finished stream when already closed.
    func events() -> AsyncStream<QMP.Event> {
        let (stream, continuation) = AsyncStream.makeStream(of: QMP.Event.self, bufferingPolicy: .unbounded)
        let key: Int? = core.withLock { core in
            guard !core.machine.isClosed else { return nil }
            let key = core.nextSubscriber
            core.nextSubscriber += 1
            core.subscribers[key] = continuation
            return key
        }
        guard let key else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            self?.core.withLock { _ = $0.subscribers.removeValue(forKey: key) }
        }
        return stream
    }

    /// Returns once the connection is closed.
    func waitClosed() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let closed = core.withLock { core in
                if core.machine.isClosed { return true }
                core.closeWaiters.append(continuation)
                return false
            }
            if closed { continuation.resume() }
        }
    }

    var isConnected: Bool { core.withLock { $0.machine.isReady } }

    /// Closes: fails every waiting call with ``QMP/Error/disconnected`` and closes the channel.
    /// Returns the channel, to wait for it to finish closing.
    @discardableResult
    func close() -> Channel? {
        let (effects, channel) = core.withLock { core in
            (Self.apply(core.machine.close(.disconnected), to: &core), core.channel)
        }
        run(effects)
        channel?.close(promise: nil)
        return channel
    }

    // MARK: Effects

    /// Books `action` into `core` and returns what to do outside the lock.
    private static func apply(_ action: QMPStateMachine<Call>.Action, to core: inout Core) -> [Effect] {
        switch action {
        case .none:
            return []
        case .send(let message):
            return core.channel.map { [.write(message, $0)] } ?? []
        case .sendAndConnect(let message, let greeting):
            return apply(.send(message), to: &core) + apply(.connected(greeting), to: &core)
        case .connected(let greeting):
            var effects: [Effect] = core.handshakeTimer.map { [.cancel($0)] } ?? []
            core.handshakeTimer = nil
            core.handshakeResult = .success(greeting)
            if let waiter = core.connectWaiter {
                core.connectWaiter = nil
                effects.append(.resumeConnect(waiter, .success(greeting)))
            }
            return effects
        case .succeed(let call, let value):
            return (call.timer.map { [.cancel($0)] } ?? []) + [.resume(call.reply, .success(value))]
        case .fail(let call, let error):
            return (call.timer.map { [.cancel($0)] } ?? []) + [.resume(call.reply, .failure(error))]
        case .emit(let event):
            return core.subscribers.isEmpty ? [] : [.yield(event, to: core.subscribers.sorted { $0.key < $1.key }.map(\.value))]
        case .close(let error, let calls):
            var effects: [Effect] = []
            for call in calls {
                if let timer = call.timer { effects.append(.cancel(timer)) }
                effects.append(.resume(call.reply, .failure(error)))
            }
            if let timer = core.handshakeTimer { effects.append(.cancel(timer)) }
            core.handshakeTimer = nil
            if core.handshakeResult == nil { core.handshakeResult = .failure(error) }
            if let waiter = core.connectWaiter {
                core.connectWaiter = nil
                effects.append(.resumeConnect(waiter, .failure(error)))
            }
            effects.append(.finish(Array(core.subscribers.values)))
            core.subscribers = [:]
            effects.append(.resumeClosed(core.closeWaiters))
            core.closeWaiters = []
            if let channel = core.channel { effects.append(.close(channel)) }
            return effects
        }
    }

    private func run(_ effects: [Effect]) {
        for effect in effects {
            switch effect {
            case .resume(let reply, let result): reply.deliver(result)
            case .resumeConnect(let continuation, let result): continuation.resume(returning: result)
            case .resumeClosed(let continuations): for continuation in continuations { continuation.resume() }
            case .cancel(let timer): timer.cancel()
            case .yield(let event, let subscribers): for subscriber in subscribers { subscriber.yield(event) }
            case .finish(let subscribers): for subscriber in subscribers { subscriber.finish() }
            case .write(let message, let channel): channel.writeAndFlush(message, promise: nil)
            case .writeCommand(let message, let channel, let id):
                channel.writeAndFlush(message).whenFailure { [weak self] _ in self?.sendFailed(id: id) }
            case .close(let channel): channel.close(promise: nil)
            }
        }
    }
}
