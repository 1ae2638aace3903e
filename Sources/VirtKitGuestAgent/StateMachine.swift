import VirtKitJSON

/// The guest agent protocol's state as a plain value: it decides, the caller does the I/O.
///
/// At most one exchange is in flight (the connection's gate serialises callers): a sync
/// handshake, a command awaiting its reply, or a command that answers only when it fails.
/// Lines that arrive with no exchange waiting, or that an exchange does not want (anything
/// before the sync's sentinel and id), are dropped. ``isInSync`` says whether the next reply
/// on the wire will be the next command's: it becomes true when a sync succeeds and false
/// whenever a reply may still be on its way (a timeout, a command sent without waiting, a
/// command that did not answer) or something unexpected arrived.
///
/// `Waiter` is whatever the caller resumes (a continuation in the client, a plain value in
/// tests). Every method returns an ``Action`` for the caller to carry out.
struct GuestAgentStateMachine<Waiter> {
    /// What an exchange waits for.
    enum Expectation: Equatable {
        /// `{"return": id}`, after a 0xFF sentinel when `delimited` (`guest-sync-delimited`;
        /// plain `guest-sync` otherwise).
        case sync(id: Int64, delimited: Bool)
        /// The next reply (an object with `return` or `error`).
        case reply
        /// An `error` reply, or nothing: `guest-shutdown` and `guest-suspend-*` do not answer
        /// when they succeed.
        case errorOnly
    }

    /// How an exchange ended well.
    enum Outcome: Equatable {
        case synced
        /// The agent does not know `guest-sync-delimited`: sync with `guest-sync` instead.
        case delimitedSyncUnknown
        /// The reply object, `return` or `error`.
        case reply(JSONValue)
        /// No reply within the wait, or the connection closed meanwhile (``Expectation/errorOnly``).
        case noReply
    }

    struct Exchange {
        var serial: Int
        var expectation: Expectation
        /// The caller's command, for ``GuestAgent/Error/timedOut(command:)``.
        var command: String
        var waiter: Waiter
        var sawSentinel = false
    }

    enum Action {
        case none
        case resume(Waiter, Result<Outcome, GuestAgent.Error>)
    }

    enum StartAction {
        /// Write the exchange's bytes; its timer, if any, reports with `serial`.
        case send(serial: Int)
        case fail(Waiter, GuestAgent.Error)
    }

    private(set) var isClosed = false
    private(set) var isInSync = false
    private(set) var current: Exchange?
    private var nextSerial = 1

    init() {}

    /// Starts an exchange. The caller must have finished the previous one.
    mutating func start(_ expectation: Expectation, command: String, waiter: Waiter) -> StartAction {
        guard !isClosed else { return .fail(waiter, .notConnected) }
        precondition(current == nil, "one guest agent exchange at a time")
        let serial = nextSerial
        nextSerial += 1
        current = Exchange(serial: serial, expectation: expectation, command: command, waiter: waiter)
        return .send(serial: serial)
    }

    /// Changes the current exchange's waiter (to attach a timer to it, say).
    mutating func modifyWaiter(serial: Int, _ body: (inout Waiter) -> Void) {
        guard var exchange = current, exchange.serial == serial else { return }
        body(&exchange.waiter)
        current = exchange
    }

    /// A command went out without waiting for its reply.
    mutating func sentWithoutWaiting() {
        isInSync = false
    }

    mutating func receivedSentinel() -> Action {
        guard var exchange = current, case .sync(_, delimited: true) = exchange.expectation else { return .none }
        exchange.sawSentinel = true
        current = exchange
        return .none
    }

    mutating func received(_ message: JSONValue) -> Action {
        guard var exchange = current else {
            isInSync = false  // a reply nobody waits for: whatever it answers, it was late
            return .none
        }
        switch exchange.expectation {
        case .sync(let id, let delimited):
            if delimited && !exchange.sawSentinel {
                if Self.isDelimitedSyncUnknown(message) { return finish(.success(.delimitedSyncUnknown)) }
                return .none
            }
            if message["return"]?.int64 == id {
                isInSync = true
                return finish(.success(.synced))
            }
            exchange.sawSentinel = false
            current = exchange
            return .none
        case .reply, .errorOnly:
            guard message["return"] != nil || message["error"]?.object != nil else {
                isInSync = false
                return finish(.failure(.malformed(raw: GuestAgent.Error.excerpt(message.jsonBytes))))
            }
            return finish(.success(.reply(message)))
        }
    }

    mutating func receivedMalformed(raw: String) -> Action {
        guard let exchange = current else {
            isInSync = false
            return .none
        }
        switch exchange.expectation {
        case .sync:
            return .none  // garbage before the sync's answer is expected
        case .reply, .errorOnly:
            isInSync = false
            return finish(.failure(.malformed(raw: raw)))
        }
    }

    /// The wait of exchange `serial` ended (its timer fired).
    mutating func waitEnded(serial: Int) -> Action {
        guard let exchange = current, exchange.serial == serial else { return .none }
        isInSync = false
        switch exchange.expectation {
        case .errorOnly: return finish(.success(.noReply))
        case .sync, .reply: return finish(.failure(.timedOut(command: exchange.command)))
        }
    }

    /// The connection closed (either side): the exchange fails with
    /// ``GuestAgent/Error/disconnected``, except that a command expected not to answer
    /// succeeds (the guest went down as asked). Later exchanges fail with
    /// ``GuestAgent/Error/notConnected``.
    mutating func connectionClosed() -> Action {
        isClosed = true
        isInSync = false
        guard let exchange = current else { return .none }
        switch exchange.expectation {
        case .errorOnly: return finish(.success(.noReply))
        case .sync, .reply: return finish(.failure(.disconnected))
        }
    }

    private mutating func finish(_ result: Result<Outcome, GuestAgent.Error>) -> Action {
        guard let exchange = current else { return .none }
        current = nil
        return .resume(exchange.waiter, result)
    }

    /// Whether `message` is the agent's "no such command" for `guest-sync-delimited`.
    static func isDelimitedSyncUnknown(_ message: JSONValue) -> Bool {
        guard let error = message["error"], error["class"]?.string == "CommandNotFound" else { return false }
        return error["desc"]?.string?.contains("guest-sync-delimited") ?? false
    }
}
