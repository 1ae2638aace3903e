import VirtKitQMP

/// Runs a client's command: the policy first, then QEMU through the daemon's QMP connection.
///
/// Commands from different clients go out concurrently; the QMP client pipelines them and
/// matches each reply by its id, so every answer goes back to the client that asked.
///
/// The fast path takes no task: when the policy decides at once (``MonitorPolicy/decideNow(_:on:)``),
/// the command goes to QEMU with a callback straight from the client's event loop, which is
/// the QMP connection's own loop (``MonitorServer`` serves there), and the reply comes back
/// on it. Only when the policy has to wait (`quit`) does the command run in a task.
struct MonitorCommandRunner: Sendable {
    let qmp: QMP.Client
    let policy: MonitorPolicy
    let timeout: Duration

    /// Runs `request`, which arrived on `channel`, and hands what the client gets to
    /// `completion`, once: synchronously when the answer needs no QEMU, otherwise later on
    /// the QMP connection's event loop, or, when the policy had to wait, on a task.
    func run(
        _ request: MonitorSession.Request, on channel: MonitorChannel,
        completion: @escaping @Sendable (MonitorSession.Answer) -> Void
    ) {
        switch decide(request, on: channel) {
        case .answer(let answer):
            completion(answer)
        case .pass:
            pass(request, completion: completion)
        case .wait:
            // Unstructured because NIO calls handlers synchronously while the policy is async
            // work. The task ends with the command (bounded by the command timeout).
            Task {
                completion(await run(request, on: channel))
            }
        }
    }

    /// Runs `request`, which arrived on `channel`, and returns what the client gets.
    func run(_ request: MonitorSession.Request, on channel: MonitorChannel) async -> MonitorSession.Answer {
        switch request {
        case .hmp(let line): .text(await runHMP(line, on: channel))
        case .qmp(let object): .reply(await runQMP(object, on: channel))
        }
    }

    // MARK: Without waiting

    private enum Decision {
        /// The policy answered (refused or handled it).
        case answer(MonitorSession.Answer)
        /// Allowed: to QEMU.
        case pass
        /// The policy must be awaited.
        case wait
    }

    /// The policy's verdicts for `request`, in the order ``run(_:on:)`` asks for them.
    private func decide(_ request: MonitorSession.Request, on channel: MonitorChannel) -> Decision {
        switch request {
        case .hmp(let line):
            switch policy.decideNow(.hmp(line), on: channel) {
            case nil: return .wait
            case .refuse(let message): return .answer(.text(message))
            case .handled(_, let text): return .answer(.text(text))
            case .allow: return .pass
            }
        case .qmp(let object):
            let id = object["id"]
            let name = object["execute"]?.string ?? object["exec-oob"]?.string
            let arguments = object["arguments"]
            if name == "human-monitor-command", let line = arguments?["command-line"]?.string {
                switch policy.decideNow(.hmp(line), on: channel) {
                case nil: return .wait
                case .refuse(let message): return .answer(.reply(MonitorSession.errorReply(message, id: id)))
                case .handled(_, let text): return .answer(.reply(Self.returnReply(.string(text), id: id)))
                case .allow: break
                }
            }
            if let name {
                switch policy.decideNow(.qmp(name: name, arguments: arguments), on: channel) {
                case nil: return .wait
                case .refuse(let message): return .answer(.reply(MonitorSession.errorReply(message, id: id)))
                case .handled(let value, _): return .answer(.reply(Self.returnReply(value, id: id)))
                case .allow: break
                }
            }
            return .pass
        }
    }

    /// Sends an allowed `request` to QEMU; `completion` gets the answer.
    private func pass(_ request: MonitorSession.Request, completion: @escaping @Sendable (MonitorSession.Answer) -> Void) {
        switch request {
        case .hmp(let line):
            let timeout = timeout
            qmp.execute("human-monitor-command", arguments: ["command-line": .string(line)], timeout: timeout) {
                result in
                completion(.text(Self.hmpText(result, timeout: timeout)))
            }
        case .qmp(let object):
            let timeout = timeout
            let id = object["id"]
            qmp.executeRaw(.object(object), timeout: timeout) { result in
                completion(.reply(Self.qmpReply(result, id: id, timeout: timeout)))
            }
        }
    }

    // MARK: Awaiting the policy

    private func runHMP(_ line: String, on channel: MonitorChannel) async -> String {
        switch await policy.review(.hmp(line), on: channel) {
        case .refuse(let message): return message
        case .handled(_, let text): return text
        case .allow: break
        }
        let result: Result<QMP.Value, QMP.Error>
        do {
            result = .success(try await qmp.execute(
                "human-monitor-command", arguments: ["command-line": .string(line)], timeout: timeout))
        } catch {
            result = .failure(error)
        }
        return Self.hmpText(result, timeout: timeout)
    }

    private func runQMP(_ object: QMP.Value.Object, on channel: MonitorChannel) async -> QMP.Value {
        let id = object["id"]
        let name = object["execute"]?.string ?? object["exec-oob"]?.string
        let arguments = object["arguments"]
        // HMP smuggled through QMP meets the HMP rules.
        if name == "human-monitor-command", let line = arguments?["command-line"]?.string {
            switch await policy.review(.hmp(line), on: channel) {
            case .refuse(let message): return MonitorSession.errorReply(message, id: id)
            case .handled(_, let text): return Self.returnReply(.string(text), id: id)
            case .allow: break
            }
        }
        if let name {
            switch await policy.review(.qmp(name: name, arguments: arguments), on: channel) {
            case .refuse(let message): return MonitorSession.errorReply(message, id: id)
            case .handled(let value, _): return Self.returnReply(value, id: id)
            case .allow: break
            }
        }
        let result: Result<QMP.Value, QMP.Error>
        do {
            result = .success(try await qmp.executeRaw(.object(object), timeout: timeout))
        } catch {
            result = .failure(error)
        }
        return Self.qmpReply(result, id: id, timeout: timeout)
    }

    // MARK: Answers

    /// What an HMP client gets for QEMU's result of `human-monitor-command`.
    private static func hmpText(_ result: Result<QMP.Value, QMP.Error>, timeout: Duration) -> String {
        switch result {
        case .success(let output):
            guard let text = output.string else {
                return "error: \(describe(.malformed(raw: output.jsonString), timeout: timeout))\r\n"
            }
            return text
        case .failure(let error):
            return "error: \(describe(error, timeout: timeout))\r\n"
        }
    }

    /// What a QMP client gets for QEMU's result of a raw command with `id`.
    private static func qmpReply(_ result: Result<QMP.Value, QMP.Error>, id: QMP.Value?, timeout: Duration) -> QMP.Value {
        switch result {
        case .success(let reply):
            return reply
        case .failure(.commandFailed(let errorClass, let description)):
            return MonitorSession.errorReply(description, id: id, class: errorClass)
        case .failure(let error):
            return MonitorSession.errorReply(describe(error, timeout: timeout), id: id)
        }
    }

    private static func describe(_ error: QMP.Error, timeout: Duration) -> String {
        switch error {
        case .timeout: "QEMU did not answer within \(timeout)"
        case .disconnected: "the QEMU monitor connection is closed"
        case .commandFailed(_, let description): description
        default: error.description
        }
    }

    private static func returnReply(_ value: QMP.Value, id: QMP.Value?) -> QMP.Value {
        var reply: QMP.Value.Object = ["return": value]
        if let id { reply["id"] = id }
        return .object(reply)
    }
}
