import VirtKitQMP

/// A command a monitor client sent, as the policy sees it.
public enum MonitorCommand: Sendable, Equatable {
    /// An HMP command line, from the interactive or command channel, or the `command-line`
    /// of a QMP `human-monitor-command` (the server unwraps it, so HMP has one form here).
    case hmp(String)
    /// A QMP command: its `execute` (or `exec-oob`) name and its `arguments`.
    case qmp(name: String, arguments: QMP.Value?)

    /// The command's name (HMP: as typed).
    public var name: String {
        switch self {
        case .hmp(let line): HMPCommandLine(line).name
        case .qmp(let name, _): name
        }
    }
}

/// What the policy decided about a ``MonitorCommand``.
public enum MonitorVerdict: Sendable, Equatable {
    /// Pass the command to QEMU.
    case allow
    /// Do not run it; the client gets the message (HMP: the text; QMP:
    /// `{"error": {"class": "GenericError", "desc": message}}`).
    case refuse(String)
    /// The daemon did it itself: QMP clients get `{"return": value}`, HMP clients `hmpText`.
    case handled(QMP.Value, hmpText: String)
}

/// Decides which monitor commands reach QEMU, so no client can break the daemon's hold on
/// the guest (quit it behind the daemon's back, remove a chardev the daemon brokers).
///
/// The daemon supplies it per guest; ``standard(onQuit:brokeredChardevs:)`` covers what
/// VirtKit needs. `review` runs for every command before QEMU sees it, concurrently for
/// different clients, so it must be cheap or at least not block other guests.
///
/// A policy can also decide without waiting (``init(decide:review:)``): the server asks
/// `decide` first, on the client's event loop, and only when it returns nil runs the async
/// `review` in a task. Most commands are allowed this way with no task and no thread hop.
public struct MonitorPolicy: Sendable {
    private let decider: (@Sendable (MonitorCommand, MonitorChannel) -> MonitorVerdict?)?
    private let reviewer: @Sendable (MonitorCommand, MonitorChannel) async -> MonitorVerdict

    /// A policy that calls `review` for each command, with the channel it came in on.
    public init(review: @escaping @Sendable (MonitorCommand, MonitorChannel) async -> MonitorVerdict) {
        decider = nil
        reviewer = review
    }

    /// A policy that decides with `decide` where it can, synchronously, and with `review`
    /// where `decide` returns nil (e.g. to call back into the daemon). `decide` runs on an
    /// event loop: it must be quick, must not block, and must have no side effects (it may
    /// be asked more than once about one command).
    public init(
        decide: @escaping @Sendable (MonitorCommand, MonitorChannel) -> MonitorVerdict?,
        review: @escaping @Sendable (MonitorCommand, MonitorChannel) async -> MonitorVerdict
    ) {
        decider = decide
        reviewer = review
    }

    /// Decides about `command`, which arrived on `channel`.
    public func review(_ command: MonitorCommand, on channel: MonitorChannel) async -> MonitorVerdict {
        if let verdict = decideNow(command, on: channel) { return verdict }
        return await reviewer(command, channel)
    }

    /// The verdict about `command` when it can be had without waiting, else nil (then
    /// ``review(_:on:)`` must be awaited).
    public func decideNow(_ command: MonitorCommand, on channel: MonitorChannel) -> MonitorVerdict? {
        decider?(command, channel)
    }

    /// Passes everything to QEMU (for tests and tools that own QEMU outright).
    public static let allowAll = MonitorPolicy(decide: { _, _ in .allow }, review: { _, _ in .allow })

    /// VirtKit's rules:
    /// - `quit`/`q` (HMP) and `quit` (QMP) call `onQuit` (the daemon stops the guest its own
    ///   way and records why) and answer success; QEMU never sees them. `quit` with
    ///   arguments is refused, as QEMU would refuse it.
    /// - `chardev-remove` and `chardev-change` (HMP and QMP) of an id in
    ///   `brokeredChardevs()` are refused with a message naming the id.
    /// - Commands that reach the host (``HostAccessRule``) are refused unless
    ///   `allowHostAccess`.
    /// - Everything else is allowed.
    ///
    /// HMP sent through QMP's `human-monitor-command` meets the same rules (the server
    /// reviews its `command-line` as HMP), and `qmp_capabilities` on the command channel is
    /// refused by the server itself, whatever the policy. All but `quit` is decided without
    /// waiting, so `brokeredChardevs` must be quick and must not block.
    public static func standard(
        onQuit: @escaping @Sendable () async -> Void,
        brokeredChardevs: @escaping @Sendable () -> Set<String>,
        allowHostAccess: Bool = false
    ) -> MonitorPolicy {
        let decide: @Sendable (MonitorCommand, MonitorChannel) -> MonitorVerdict? = { command, _ in
            if !allowHostAccess, let access = HostAccessRule.hostAccess(of: command) {
                return .refuse(HostAccessRule.refusal(command: command.name, access: access))
            }
            return standardVerdict(command, brokeredChardevs: brokeredChardevs)
        }
        return MonitorPolicy(decide: decide) { command, channel in
            if let verdict = decide(command, channel) { return verdict }
            // Only quit is left.
            await onQuit()
            return .handled(.object([:]), hmpText: "")
        }
    }

    /// The standard rules' verdict, nil for a quit to carry out.
    private static func standardVerdict(
        _ command: MonitorCommand, brokeredChardevs: () -> Set<String>
    ) -> MonitorVerdict? {
        switch command {
        case .hmp(let line):
            let parsed = HMPCommandLine(line)
            if parsed.isQuit {
                guard parsed.arguments.isEmpty else {
                    return .refuse("quit|q: extraneous characters at the end of line")
                }
                return nil
            }
            if parsed.name == "chardev-remove" || parsed.name == "chardev-change",
                let id = parsed.firstArgument, brokeredChardevs().contains(id)
            {
                return .refuse(brokeredRefusal(command: parsed.name, id: id))
            }
            return .allow
        case .qmp(let name, let arguments):
            if name == "quit" { return nil }
            if name == "chardev-remove" || name == "chardev-change", let id = arguments?["id"]?.string,
                brokeredChardevs().contains(id)
            {
                return .refuse(brokeredRefusal(command: name, id: id))
            }
            return .allow
        }
    }

    private static func brokeredRefusal(command: String, id: String) -> String {
        "\(command) refused: chardev '\(id)' is brokered by VirtKit; change it through VirtKit instead"
    }
}
