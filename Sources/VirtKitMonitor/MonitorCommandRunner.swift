import VirtKitQMP

/// Runs a client's command: the policy first, then QEMU through the daemon's QMP connection.
///
/// Commands from different clients go out concurrently; the QMP client pipelines them and
/// matches each reply by its id, so every answer goes back to the client that asked.
struct MonitorCommandRunner: Sendable {
    let qmp: QMP.Client
    let policy: MonitorPolicy
    let timeout: Duration

    /// Runs `request`, which arrived on `channel`, and returns what the client gets.
    func run(_ request: MonitorSession.Request, on channel: MonitorChannel) async -> MonitorSession.Answer {
        switch request {
        case .hmp(let line): .text(await runHMP(line, on: channel))
        case .qmp(let object): .reply(await runQMP(object, on: channel))
        }
    }

    private func runHMP(_ line: String, on channel: MonitorChannel) async -> String {
        switch await policy.review(.hmp(line), on: channel) {
        case .refuse(let message): return message
        case .handled(_, let text): return text
        case .allow: break
        }
        do {
            return try await qmp.human(line, timeout: timeout)
        } catch {
            return "error: \(describe(error))\r\n"
        }
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
        do {
            return try await qmp.executeRaw(.object(object), timeout: timeout)
        } catch {
            if case .commandFailed(let errorClass, let description) = error {
                return MonitorSession.errorReply(description, id: id, class: errorClass)
            }
            return MonitorSession.errorReply(describe(error), id: id)
        }
    }

    private func describe(_ error: QMP.Error) -> String {
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
