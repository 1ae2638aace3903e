import NIOCore
import Synchronization
import VirtKitJSON

/// The shared heart of a ``GuestAgent/Client``: the protocol state machine, the gate that lets
/// one call at a time talk to the agent, and the channel, behind one `Mutex`.
///
/// Thread safety: every piece of mutable state lives in ``Core`` inside a `Mutex`. Callers on
/// any thread and the channel's event loop (inbound frames, timers, the channel closing) take
/// the lock only to consult the state machine and update the books; what must then happen
/// (resuming continuations, cancelling timers, writing, closing) is collected as ``Effect``
/// values and carried out after the lock is released, so no continuation is resumed and no
/// NIO call made while holding it (timers are scheduled under the lock; NIO never runs them
/// synchronously).
final class GuestAgentConnection: Sendable {
    typealias Machine = GuestAgentStateMachine<Waiter>
    typealias ExchangeResult = Result<Machine.Outcome, GuestAgent.Error>

    /// A waiting exchange: its continuation and its timer.
    struct Waiter: Sendable {
        var continuation: CheckedContinuation<ExchangeResult, Never>
        var timer: Scheduled<Void>?
    }

    /// A call waiting for its turn.
    struct Turn: Sendable {
        var ticket: Int
        var continuation: CheckedContinuation<Bool, Never>
        var timer: Scheduled<Void>?
    }

    struct Core: ~Copyable {
        var machine = Machine()
        var channel: Channel?
        /// Whether a call holds the gate.
        var busy = false
        /// Calls waiting for the gate, first come first served.
        var turns: [Turn] = []
        var nextTicket = 0
        /// Set once the agent has said it does not know `guest-sync-delimited`.
        var plainSyncOnly = false
    }

    /// Work to do once the lock is released.
    enum Effect: Sendable {
        case resume(CheckedContinuation<ExchangeResult, Never>, ExchangeResult)
        case resumeTurn(CheckedContinuation<Bool, Never>, Bool)
        case cancel(Scheduled<Void>)
        case write([UInt8], Channel)
    }

    private let core = Mutex(Core())

    init() {}

    // MARK: Channel side (event loop)

    /// Records the channel, from the bootstrap's initializer before any byte is read.
    func attach(_ channel: Channel) {
        core.withLock { $0.channel = channel }
    }

    func receivedSentinel() {
        run(core.withLock { Self.effects(of: $0.machine.receivedSentinel()) })
    }

    func received(_ message: JSONValue) {
        run(core.withLock { Self.effects(of: $0.machine.received(message)) })
    }

    func receivedMalformed(raw: String) {
        run(core.withLock { Self.effects(of: $0.machine.receivedMalformed(raw: raw)) })
    }

    func channelClosed() {
        run(core.withLock { Self.effects(of: $0.machine.connectionClosed()) })
    }

    private func waitEnded(serial: Int) {
        run(core.withLock { Self.effects(of: $0.machine.waitEnded(serial: serial)) })
    }

    // MARK: Client side (any thread)

    /// Waits for this call's turn to talk to the agent, at most `wait` (nil: for ever).
    /// True once the turn is this call's, to give back with ``endTurn()``; false on timeout.
    func beginTurn(wait: Duration?) async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let effects: [Effect] = core.withLock { core in
                guard core.busy else {
                    core.busy = true
                    return [.resumeTurn(continuation, true)]
                }
                let ticket = core.nextTicket
                core.nextTicket += 1
                let timer = wait.flatMap { wait in
                    core.channel?.eventLoop.scheduleTask(in: TimeAmount(wait)) { [weak self] () -> Void in
                        self?.turnTimedOut(ticket: ticket)
                    }
                }
                core.turns.append(Turn(ticket: ticket, continuation: continuation, timer: timer))
                return []
            }
            run(effects)
        }
    }

    /// Gives the turn to the next waiting call, if any.
    func endTurn() {
        let effects: [Effect] = core.withLock { core in
            guard !core.turns.isEmpty else {
                core.busy = false
                return []
            }
            let next = core.turns.removeFirst()
            return (next.timer.map { [.cancel($0)] } ?? []) + [.resumeTurn(next.continuation, true)]
        }
        run(effects)
    }

    private func turnTimedOut(ticket: Int) {
        let effects: [Effect] = core.withLock { core in
            guard let index = core.turns.firstIndex(where: { $0.ticket == ticket }) else { return [] }
            return [.resumeTurn(core.turns.remove(at: index).continuation, false)]
        }
        run(effects)
    }

    /// Whether the next command needs a sync handshake first.
    var needsSync: Bool { core.withLock { !$0.machine.isInSync } }

    /// Whether the agent is known not to support `guest-sync-delimited`.
    var plainSyncOnly: Bool {
        get { core.withLock { $0.plainSyncOnly } }
        set { core.withLock { $0.plainSyncOnly = newValue } }
    }

    /// Whether the connection is open.
    var isConnected: Bool { core.withLock { !$0.machine.isClosed } }

    /// Writes `bytes` and waits for what `expectation` asks, at most `wait` (nil: for ever).
    func exchange(
        _ expectation: Machine.Expectation, command: String, bytes: [UInt8], wait: Duration?
    ) async -> ExchangeResult {
        await withCheckedContinuation { continuation in
            let effects: [Effect] = core.withLock { core in
                switch core.machine.start(expectation, command: command, waiter: Waiter(continuation: continuation)) {
                case .fail(let waiter, let error):
                    return [.resume(waiter.continuation, .failure(error))]
                case .send(let serial):
                    guard let channel = core.channel else {
                        return Self.effects(of: core.machine.connectionClosed())
                    }
                    if let wait {
                        let timer = channel.eventLoop.scheduleTask(in: TimeAmount(wait)) { [weak self] () -> Void in
                            self?.waitEnded(serial: serial)
                        }
                        core.machine.modifyWaiter(serial: serial) { $0.timer = timer }
                    }
                    return [.write(bytes, channel)]
                }
            }
            run(effects)
        }
    }

    /// Writes `bytes` without waiting for any reply; returns once they are written.
    func send(_ bytes: [UInt8]) async -> Result<Void, GuestAgent.Error> {
        let channel: Channel? = core.withLock { core in
            guard !core.machine.isClosed else { return nil }
            core.machine.sentWithoutWaiting()
            return core.channel
        }
        guard let channel else { return .failure(.notConnected) }
        do {
            try await channel.writeAndFlush(channel.allocator.buffer(bytes: bytes))
            return .success(())
        } catch {
            return .failure(.disconnected)
        }
    }

    /// Closes the channel; the waiting exchange fails as for the agent's side closing, and
    /// later ones with ``GuestAgent/Error/notConnected``. Returns the channel, to wait for it
    /// to finish closing.
    @discardableResult
    func close() -> Channel? {
        let (effects, channel) = core.withLock { core in
            (Self.effects(of: core.machine.connectionClosed()), core.channel)
        }
        run(effects)
        channel?.close(promise: nil)
        return channel
    }

    // MARK: Effects

    private static func effects(of action: Machine.Action) -> [Effect] {
        switch action {
        case .none:
            return []
        case .resume(let waiter, let result):
            return (waiter.timer.map { [.cancel($0)] } ?? []) + [.resume(waiter.continuation, result)]
        }
    }

    private func run(_ effects: [Effect]) {
        for effect in effects {
            switch effect {
            case .resume(let continuation, let result): continuation.resume(returning: result)
            case .resumeTurn(let continuation, let granted): continuation.resume(returning: granted)
            case .cancel(let timer): timer.cancel()
            case .write(let bytes, let channel):
                // A failed write means the channel is going away: closing it reports that to
                // the waiting exchange (as .disconnected) through channelInactive.
                channel.writeAndFlush(channel.allocator.buffer(bytes: bytes)).whenFailure { _ in
                    channel.close(promise: nil)
                }
            }
        }
    }
}
