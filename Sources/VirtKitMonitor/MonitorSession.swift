import VirtKitQMP
import VirtKitText

/// One client's conversation on a monitor channel, as a plain value: it takes lines and
/// results and returns ``Action``s; the channel handler does the I/O.
///
/// Interactive channel: the banner and prompt on connect; then the first line decides the
/// mode for good. A JSON object (first non-blank byte `{`) makes a QMP session (`qmp_capabilities`
/// answered here, later commands run, events delivered); anything else HMP (each line run,
/// its text and the prompt written back; blank lines just re-prompt). Command channel: the
/// first non-blank line is the one command (HMP or QMP alike); its answer is written and the
/// connection closed; later lines are ignored.
///
/// Commands of one client run one at a time, in order: further lines wait in a queue until
/// the answer before them is written (the handler stops reading while the queue is long).
/// Different clients run at the same time.
struct MonitorSession {
    enum Mode: Equatable {
        case undecided
        case hmp
        case qmp
    }

    /// A command to pass through the policy and QEMU.
    enum Request: Equatable, Sendable {
        /// An HMP command line, trimmed.
        case hmp(String)
        /// A QMP command object, `id` and all.
        case qmp(QMP.Value.Object)
    }

    /// The outcome of a ``Request``.
    enum Answer: Equatable, Sendable {
        /// HMP output (QEMU's text, or a message).
        case text(String)
        /// A whole QMP reply object.
        case reply(QMP.Value)
    }

    enum Action: Equatable {
        case write([UInt8])
        /// Run the request and report with ``MonitorSession/finished(_:)``.
        case run(Request)
        /// Start delivering QMP events (see ``MonitorSession/event(_:)``).
        case subscribeEvents
        case cancelIdleTimer
        /// Close once what was written has gone out.
        case close
    }

    /// QEMU's HMP prompt.
    static let prompt = "(qemu) "

    /// QEMU's HMP banner with the first prompt, e.g. "QEMU 7.2.22 monitor - type 'help' for
    /// more information\r\n(qemu) ".
    static func banner(version: QMP.Version) -> String {
        "QEMU \(version) monitor - type 'help' for more information\r\n" + prompt
    }

    let channel: MonitorChannel
    let maxLineLength: Int
    private(set) var mode = Mode.undecided
    /// Lines waiting behind a running command, from `queueHead` on.
    private var queue: [[UInt8]] = []
    private var queueHead = 0
    /// Bytes of lines waiting behind a running command, each counted with one byte for its
    /// line end so that a flood of empty lines also counts.
    private(set) var queuedBytes = 0
    private var running = false
    private var inputEnded = false
    /// Set once closing has been decided; nothing more is written or run.
    private(set) var isClosing = false
    /// Command channel: the command has arrived.
    private var commandTaken = false
    /// QMP mode: capabilities negotiated (or a first command ran without).
    private var negotiated = false

    init(channel: MonitorChannel, maxLineLength: Int) {
        self.channel = channel
        self.maxLineLength = maxLineLength
    }

    // MARK: Inputs

    /// The client connected; `banner` is ``banner(version:)``.
    mutating func connected(banner: String) -> [Action] {
        channel == .interactive ? [.write(Array(banner.utf8))] : []
    }

    /// A complete line arrived.
    mutating func received(_ line: [UInt8]) -> [Action] {
        guard !isClosing, !(channel == .command && commandTaken) else { return [] }
        queue.append(line)
        queuedBytes += line.count + 1
        return pump()
    }

    /// The running request finished with `answer`.
    mutating func finished(_ answer: Answer) -> [Action] {
        running = false
        guard !isClosing else { return [] }
        var actions: [Action] = [.write(format(answer))]
        if channel == .command {
            isClosing = true
            actions.append(.close)
            return actions
        }
        return actions + pump()
    }

    /// The client closed its side: answer what was asked, then close.
    mutating func inputClosed() -> [Action] {
        inputEnded = true
        return pump()
    }

    /// A line was longer than ``maxLineLength``: an error, then close.
    mutating func lineTooLong() -> [Action] {
        guard !isClosing else { return [] }
        isClosing = true
        queue = []
        queueHead = 0
        queuedBytes = 0
        return [.cancelIdleTimer, .write(errorLine("line longer than \(maxLineLength) bytes")), .close]
    }

    /// The command channel's idle timeout passed.
    mutating func idleTimedOut(after timeout: Duration) -> [Action] {
        guard channel == .command, !commandTaken, !isClosing else { return [] }
        isClosing = true
        return [.write(errorLine("no command received within \(timeout)")), .close]
    }

    /// A QMP event line for the client (delivered only in QMP mode).
    func event(_ line: [UInt8]) -> [Action] {
        mode == .qmp && !isClosing ? [.write(line)] : []
    }

    // MARK: Processing

    private mutating func pump() -> [Action] {
        var actions: [Action] = []
        while !running, !isClosing, let line = dequeue() {
            actions += handle(line)
        }
        if !running, !isClosing, queueHead == queue.count, inputEnded {
            isClosing = true
            actions.append(.close)
        }
        return actions
    }

    private mutating func dequeue() -> [UInt8]? {
        guard queueHead < queue.count else { return nil }
        let line = queue[queueHead]
        queue[queueHead] = []
        queueHead += 1
        queuedBytes -= line.count + 1
        if queueHead == queue.count {
            queue.removeAll(keepingCapacity: true)
            queueHead = 0
        } else if queueHead >= 1024, queueHead * 2 >= queue.count {
            queue.removeFirst(queueHead)
            queueHead = 0
        }
        return line
    }

    /// The byte a JSON object starts with (a left curly bracket).
    private static let objectStart: UInt8 = 0x7B

    private mutating func handle(_ line: [UInt8]) -> [Action] {
        let startsJSON = line.first { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") } == Self.objectStart
        let isBlank = line.allSatisfy { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        switch channel {
        case .interactive:
            switch mode {
            case .undecided where isBlank:
                return [.write(Array(Self.prompt.utf8))]
            case .undecided where startsJSON:
                mode = .qmp
                return [.subscribeEvents] + handleQMP(line)
            case .undecided:
                mode = .hmp
                return handleHMP(line)
            case .hmp:
                return handleHMP(line)
            case .qmp:
                return isBlank ? [] : handleQMP(line)
            }
        case .command:
            guard !isBlank else { return [] }
            commandTaken = true
            return [.cancelIdleTimer] + (startsJSON ? handleQMP(line) : handleHMP(line))
        }
    }

    private mutating func handleHMP(_ line: [UInt8]) -> [Action] {
        guard let text = String(validating: line, as: UTF8.self) else {
            return immediate(.text("error: the command line is not valid UTF-8\r\n"))
        }
        if text.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F }) {
            return immediate(.text("error: control characters in the command line\r\n"))
        }
        let trimmed = text.trimmingBlanks
        if trimmed.isEmpty { return [.write(Array(Self.prompt.utf8))] }
        running = true
        return [.run(.hmp(trimmed))]
    }

    private mutating func handleQMP(_ line: [UInt8]) -> [Action] {
        let value: QMP.Value
        do {
            value = try QMP.Value(json: line)
        } catch {
            return immediate(.reply(Self.errorReply("JSON parse error", id: nil)))
        }
        guard case .object(let object) = value else {
            return immediate(.reply(Self.errorReply("QMP input must be a JSON object", id: nil)))
        }
        let name = object["execute"]?.string ?? object["exec-oob"]?.string
        if name == "qmp_capabilities" {
            if channel == .command {
                return immediate(.reply(Self.errorReply(
                    "qmp_capabilities is not used on the command channel: send the command itself", id: object["id"])))
            }
            if negotiated {
                return immediate(.reply(Self.errorReply(
                    "Capabilities negotiation is already complete, command ignored", id: object["id"],
                    class: "CommandNotFound")))
            }
            negotiated = true
            var reply: QMP.Value.Object = ["return": .object([:])]
            if let id = object["id"] { reply["id"] = id }
            return immediate(.reply(.object(reply)))
        }
        negotiated = true
        running = true
        return [.run(.qmp(object))]
    }

    /// An answer made here, without QEMU: written at once (and the command channel closed).
    private mutating func immediate(_ answer: Answer) -> [Action] {
        var actions: [Action] = [.write(format(answer))]
        if channel == .command {
            isClosing = true
            actions.append(.close)
        }
        return actions
    }

    // MARK: Formatting

    private func format(_ answer: Answer) -> [UInt8] {
        switch answer {
        case .text(let text):
            var out = text
            // "\r\n" is one Character, so look at the last scalar.
            if let last = out.unicodeScalars.last, last != "\n" { out += "\r\n" }
            if channel == .interactive { out += Self.prompt }
            return Array(out.utf8)
        case .reply(let reply):
            return reply.jsonBytes + Array("\r\n".utf8)
        }
    }

    /// An error for the client in its mode's form: a QMP error object or an "error: " line.
    private func errorLine(_ message: String) -> [UInt8] {
        if mode == .qmp { return format(.reply(Self.errorReply(message, id: nil))) }
        return Array("error: \(message)\r\n".utf8)
    }

    /// `{"error": {"class": errorClass, "desc": message}, "id": id}`, id left out when nil.
    static func errorReply(_ message: String, id: QMP.Value?, class errorClass: String = "GenericError") -> QMP.Value {
        var reply: QMP.Value.Object = ["error": ["class": .string(errorClass), "desc": .string(message)]]
        if let id { reply["id"] = id }
        return .object(reply)
    }
}
