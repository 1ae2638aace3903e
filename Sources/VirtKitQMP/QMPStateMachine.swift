/// The QMP protocol state as a plain value: it decides, the caller does the I/O.
///
/// States: awaiting the greeting -> negotiating (`qmp_capabilities` sent) -> ready -> closed.
/// In the ready state commands are pipelined: each gets the next integer `id`, its waiter is
/// kept by that id, and a reply is matched by the `id` QEMU echoes, in whatever order replies
/// and events arrive. A reply whose id is unknown (a command that already timed out, or one
/// this client never sent) is dropped, so a timeout never disturbs later calls.
///
/// `Waiter` is whatever the caller resumes (a continuation in the client, a plain value in
/// tests). Every method returns an ``Action`` for the caller to carry out.
struct QMPStateMachine<Waiter> {
    enum State {
        case awaitingGreeting
        case negotiating(QMP.Greeting, capabilitiesID: Int64)
        case ready(QMP.Greeting)
        case closed(QMP.Error)
    }

    /// How a reply reaches its waiter.
    enum ReplyStyle: Equatable {
        /// The `return` value, or ``QMP/Error/commandFailed(class:description:)`` for `error`.
        case result
        /// The whole reply object, its `id` put back to the caller's (removed when it had none).
        case whole(originalID: QMP.Value?)
    }

    struct PendingCommand {
        var waiter: Waiter
        var name: String
        var style: ReplyStyle
    }

    enum Action {
        case none
        /// Write this message.
        case send(QMP.Value)
        /// Negotiation finished; the connection is ready.
        case connected(QMP.Greeting)
        /// Write `qmp_capabilities`, and the connection is ready now (pipelined negotiation).
        case sendAndConnect(QMP.Value, QMP.Greeting)
        case succeed(Waiter, QMP.Value)
        case fail(Waiter, QMP.Error)
        /// Hand the event to every subscriber.
        case emit(QMP.Event)
        /// Close the connection: fail `waiters` (in id order) and an unfinished connect with
        /// `error`, and end the event streams.
        case close(QMP.Error, failing: [Waiter])
    }

    enum StartAction {
        /// Write `message`, whose id is `id`.
        case send(id: Int64, message: QMP.Value)
        case fail(Waiter, QMP.Error)
    }

    private(set) var state: State = .awaitingGreeting
    private var pending: [Int64: PendingCommand] = [:]
    private var nextID: Int64 = 1
    /// Pipelined negotiation: the connection counts as ready once `qmp_capabilities` is sent, so
    /// commands follow it on the wire before QEMU answers it (QEMU answers in order; a failed
    /// negotiation closes the connection and fails them).
    let pipelinesNegotiation: Bool

    init(pipelinesNegotiation: Bool = false) {
        self.pipelinesNegotiation = pipelinesNegotiation
    }

    /// Whether commands can be sent.
    var isReady: Bool {
        switch state {
        case .ready: return true
        case .negotiating: return pipelinesNegotiation
        case .awaitingGreeting, .closed: return false
        }
    }

    /// Whether the connection has been closed (for whatever reason).
    var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    /// The number of commands waiting for a reply.
    var pendingCount: Int { pending.count }

    /// Changes the waiter kept for command `id` (to attach a timer to it, say); false when
    /// the command is no longer waiting.
    @discardableResult
    mutating func modifyWaiter(id: Int64, _ body: (inout Waiter) -> Void) -> Bool {
        guard var command = pending[id] else { return false }
        body(&command.waiter)
        pending[id] = command
        return true
    }

    // MARK: Commands

    /// Starts `command` with `arguments`; its reply gives the `return` value.
    mutating func startCommand(_ command: String, arguments: QMP.Value?, waiter: Waiter) -> StartAction {
        var message: QMP.Value.Object = ["execute": .string(command)]
        if let arguments { message["arguments"] = arguments }
        return start(message, name: command, style: .result, waiter: waiter)
    }

    /// Starts a command object given whole; its reply comes back whole with the caller's id.
    mutating func startRaw(_ command: QMP.Value, waiter: Waiter) -> StartAction {
        guard case .object(let object) = command else {
            return .fail(waiter, .commandFailed(class: "GenericError", description: "QMP input must be a JSON object"))
        }
        let name = object["execute"]?.string ?? object["exec-oob"]?.string ?? "(raw)"
        return start(object, name: name, style: .whole(originalID: object["id"]), waiter: waiter)
    }

    private mutating func start(
        _ message: QMP.Value.Object, name: String, style: ReplyStyle, waiter: Waiter
    ) -> StartAction {
        guard isReady else { return .fail(waiter, .disconnected) }
        let id = nextID
        nextID += 1
        var message = message
        message["id"] = .int(id)
        pending[id] = PendingCommand(waiter: waiter, name: name, style: style)
        return .send(id: id, message: .object(message))
    }

    /// Command `id` ran out of time; a reply arriving later is dropped.
    mutating func timedOut(id: Int64) -> Action {
        guard let command = pending.removeValue(forKey: id) else { return .none }
        return .fail(command.waiter, .timeout(command: command.name))
    }

    /// Writing command `id` failed.
    mutating func sendFailed(id: Int64) -> Action {
        guard let command = pending.removeValue(forKey: id) else { return .none }
        return .fail(command.waiter, .disconnected)
    }

    // MARK: Inbound

    /// One message (a JSON value on one line) from QEMU.
    mutating func received(_ message: QMP.Value) -> Action {
        switch state {
        case .awaitingGreeting:
            guard let greeting = QMP.Greeting(message: message) else { return close(.greetingMissing) }
            let id = nextID
            nextID += 1
            state = .negotiating(greeting, capabilitiesID: id)
            let capabilities: QMP.Value = ["execute": "qmp_capabilities", "id": .int(id)]
            return pipelinesNegotiation ? .sendAndConnect(capabilities, greeting) : .send(capabilities)
        case .negotiating(let greeting, let capabilitiesID):
            if isReply(message), message["id"]?.int64 == capabilitiesID {
                if message["return"] != nil {
                    state = .ready(greeting)
                    return pipelinesNegotiation ? .none : .connected(greeting)
                }
                return close(Self.commandError(message["error"], raw: message))
            }
            return receivedOther(message)
        case .ready:
            return receivedOther(message)
        case .closed:
            return .none
        }
    }

    /// A line that is not JSON. Before the greeting it ends the connection; afterwards it is
    /// skipped (framing is intact, and no waiter can be matched to it).
    mutating func receivedMalformed(raw: String) -> Action {
        guard case .awaitingGreeting = state else { return .none }
        return close(.malformed(raw: raw))
    }

    private mutating func receivedOther(_ message: QMP.Value) -> Action {
        if isReply(message) {
            guard let id = message["id"]?.int64, let command = pending.removeValue(forKey: id) else {
                return .none
            }
            return reply(message, to: command)
        }
        if let event = QMP.Event(message: message) { return .emit(event) }
        return .none
    }

    private func isReply(_ message: QMP.Value) -> Bool {
        message["return"] != nil || message["error"] != nil
    }

    private func reply(_ message: QMP.Value, to command: PendingCommand) -> Action {
        switch command.style {
        case .whole(let originalID):
            guard case .object(var object) = message else { return .fail(command.waiter, .malformed(raw: "")) }
            object["id"] = originalID
            return .succeed(command.waiter, .object(object))
        case .result:
            if let value = message["return"] { return .succeed(command.waiter, value) }
            return .fail(command.waiter, Self.commandError(message["error"], raw: message))
        }
    }

    private static func commandError(_ error: QMP.Value?, raw: QMP.Value) -> QMP.Error {
        guard let error, case .object = error else {
            return .malformed(raw: String(raw.jsonString.prefix(QMP.Error.excerptLength)))
        }
        return .commandFailed(class: error["class"]?.string ?? "", description: error["desc"]?.string ?? "")
    }

    // MARK: Closing

    /// The connection ended (the peer closed, or reading failed). Before the greeting this is
    /// ``QMP/Error/greetingMissing``; otherwise ``QMP/Error/disconnected``.
    mutating func connectionClosed() -> Action {
        if case .awaitingGreeting = state { return close(.greetingMissing) }
        return close(.disconnected)
    }

    /// Connecting took too long; nothing once ready.
    mutating func handshakeTimedOut() -> Action {
        switch state {
        case .awaitingGreeting: return close(.timeout(command: "greeting"))
        case .negotiating: return close(.timeout(command: "qmp_capabilities"))
        case .ready, .closed: return .none
        }
    }

    /// Closes with `error` (the user closing, a fatal framing error). Nothing when already closed.
    mutating func close(_ error: QMP.Error) -> Action {
        if case .closed = state { return .none }
        state = .closed(error)
        let waiters = pending.sorted { $0.key < $1.key }.map(\.value.waiter)
        pending = [:]
        return .close(error, failing: waiters)
    }
}
