import VirtKitQMP

/// A start's phases as a plain value, in swift-nio's manner: it is told what happened and
/// answers with what to do next; ``StartRun`` does the I/O. It holds no handles, only which
/// resources the start holds (its ledger), so every failure undoes exactly what was acquired,
/// in reverse, from one place.
///
/// The order is libvirt's (prepare, spawn paused, QMP, consoles, status, `cont`), pipelined as
/// QEMU allows: the brokers start while QEMU initialises; `query-chardev` is sent behind the
/// QMP negotiation at once; when QEMU announced every pty on its stdout, the consoles attach,
/// the status is written and `cont` is sent queued behind `query-chardev`, whose answer still
/// has the last word (it confirms the announced ptys before the guest is made).
struct StartSequence {
    /// What a start holds until the ``RunningGuest`` takes over, in acquisition order.
    enum Resource: Equatable, Sendable {
        /// The run directory (and the status file written into the status directory).
        case runDirectory
        /// The sockets made for QEMU and for the brokers.
        case socketFiles
        /// Our copies of the descriptors QEMU gets (closed once it holds them).
        case qemuDescriptors
        /// The listeners of brokered sockets' own paths (until the brokers take them).
        case servedListeners
        /// QEMU itself.
        case process
        /// The console brokers being set up.
        case brokers
        /// The QMP connection.
        case qmp
        /// The monitor channels, and the guest a monitor client's `quit` waits for.
        case monitor
    }

    /// Why a start failed.
    enum Failure: Equatable, Sendable {
        /// Before QEMU ran: the error as it is.
        case runtime(RuntimeError)
        /// Once QEMU runs: what went wrong, to be told with QEMU's own stderr.
        case qemu(String)
    }

    enum Event: Equatable, Sendable {
        case begin
        case prepared
        /// Preparing, opening the log or spawning failed.
        case failed(RuntimeError)
        case spawned
        case qmpConnected
        case qmpConnectFailed
        case liveDefinitionWritten
        /// A step after QEMU started failed (the live definition, the status).
        case qemuFailed(String)
        /// The ptys QEMU announced in its log, by alias (possibly not all of them).
        case ptysRead([String: String])
        /// `query-chardev`'s ptys by alias, or its error.
        case chardevsQueried(Result<[String: String], QMP.Error>)
        case consolesAttached
        case consolesFailed(String)
        case statusWritten
        case guestMade
        case contAnswered(QMP.Error?)
    }

    enum Action: Equatable, Sendable {
        case prepare, spawn, startBrokers, connectQMP, queryChardev, writeLiveDefinition
        case startMonitor, readAnnouncedPtys, awaitChardevs
        case attachConsoles(ptys: [String: String])
        case writeStatus(ptys: [String: String])
        case sendCont
        case rewriteStatus(ptys: [String: String])
        case makeGuest, awaitCont
        /// The guest runs (or stays paused, as asked).
        case finish
        /// Undo these, in this order, and fail.
        case abort(Failure, undo: [Resource])
        /// `cont` failed after the guest took over: it is destroyed its own way.
        case abandonGuest(QMP.Error)
    }

    enum Phase: Equatable, Sendable {
        case idle, preparing, spawning, connecting, defining, readingPtys, awaitingPtys, consoles, status
        case confirming, handingOver, resuming, started, failed
    }

    static let exitedWhileConnecting = "process exited while connecting to monitor"

    let paused: Bool
    /// The brokered pty chardevs, in plan order.
    let ptyAliases: [String]
    private(set) var phase = Phase.idle
    private(set) var ledger: [Resource] = []
    /// Whether QEMU announced every pty, so that `cont` goes out before `query-chardev` answers.
    private(set) var ptysAnnounced = false
    private var ptys: [String: String] = [:]
    private var consolesFailure: String?
    private var contSent = false

    init(paused: Bool, ptyAliases: [String]) {
        self.paused = paused
        self.ptyAliases = ptyAliases
    }

    mutating func handle(_ event: Event) -> [Action] {
        switch (phase, event) {
        case (.failed, _), (.started, _):
            return []
        case (.idle, .begin):
            phase = .preparing
            ledger = [.runDirectory, .socketFiles, .qemuDescriptors, .servedListeners]
            return [.prepare]
        case (.preparing, .prepared):
            phase = .spawning
            return [.spawn]
        case (.preparing, .failed(let error)), (.spawning, .failed(let error)):
            return abort(.runtime(error))
        case (.spawning, .spawned):
            phase = .connecting
            ledger.removeAll { $0 == .qemuDescriptors || $0 == .servedListeners }
            ledger += [.process, .brokers]
            return [.startBrokers, .connectQMP]
        case (.connecting, .qmpConnectFailed):
            return abort(.qemu(Self.exitedWhileConnecting))
        case (.connecting, .qmpConnected):
            phase = .defining
            ledger.append(.qmp)
            return [.queryChardev, .writeLiveDefinition]
        case (.defining, .liveDefinitionWritten):
            phase = .readingPtys
            ledger.append(.monitor)
            return [.startMonitor, .readAnnouncedPtys]
        case (.readingPtys, .ptysRead(let announced)):
            if ptyAliases.allSatisfy({ announced[$0] != nil }) {
                ptysAnnounced = true
                ptys = announced
                phase = .consoles
                return [.attachConsoles(ptys: announced)]
            }
            phase = .awaitingPtys
            return [.awaitChardevs]
        case (_, .chardevsQueried(let result)):
            return chardevsQueried(result)
        case (.consoles, .consolesAttached):
            phase = .status
            return [.writeStatus(ptys: ptys)]
        case (.consoles, .consolesFailed(let what)):
            // With the ptys announced this comes before query-chardev's answer, which tells
            // whether QEMU died while starting (its sockets then refuse the brokers).
            consolesFailure = what
            return ptysAnnounced ? [.awaitChardevs] : abort(.qemu(what))
        case (.status, .statusWritten):
            guard ptysAnnounced else {
                phase = .handingOver
                return [.makeGuest]
            }
            phase = .confirming
            contSent = !paused
            return (paused ? [] : [.sendCont]) + [.awaitChardevs]
        case (.handingOver, .guestMade):
            phase = paused ? .started : .resuming
            ledger = []
            if paused { return [.finish] }
            return (contSent ? [] : [.sendCont]) + [.awaitCont]
        case (.resuming, .contAnswered(let error)):
            phase = .started
            if let error { return [.abandonGuest(error)] }
            return [.finish]
        case (_, .qemuFailed(let what)):
            return abort(.qemu(what))
        default:
            return abort(.qemu("start sequence: unexpected \(event) in phase \(phase)"))
        }
    }

    private mutating func chardevsQueried(_ result: Result<[String: String], QMP.Error>) -> [Action] {
        let queried: [String: String]
        switch result {
        case .failure(let error):
            if error == .disconnected { return abort(.qemu(Self.exitedWhileConnecting)) }
            return abort(.qemu(consolesFailure ?? "query-chardev failed: \(error)"))
        case .success(let answer):
            queried = answer
        }
        if let consolesFailure { return abort(.qemu(consolesFailure)) }
        switch phase {
        case .awaitingPtys:
            ptys = queried
            phase = .consoles
            return [.attachConsoles(ptys: queried)]
        case .confirming:
            for alias in ptyAliases where ptys[alias] != nil && queried[alias] != ptys[alias] {
                return abort(.qemu("QEMU announced pty \(ptys[alias] ?? "") for chardev '\(alias)', "
                                   + "query-chardev gives \(queried[alias] ?? "none")"))
            }
            phase = .handingOver
            // A pty no console serves, unannounced: the status gets it.
            return (queried != ptys ? [.rewriteStatus(ptys: queried)] : []) + [.makeGuest]
        default:
            // Answered before it was awaited: only the phases above await it.
            return abort(.qemu("start sequence: query-chardev answered in phase \(phase)"))
        }
    }

    private mutating func abort(_ failure: Failure) -> [Action] {
        phase = .failed
        defer { ledger = [] }
        return [.abort(failure, undo: ledger.reversed())]
    }

    /// The pty chardevs of `query-chardev`'s answer, by alias (its labels are `char` + alias).
    static func ptys(from chardevs: [QMP.ChardevInfo]) -> [String: String] {
        var ptys: [String: String] = [:]
        for chardev in chardevs where chardev.filename.hasPrefix("pty:") {
            ptys[String(chardev.label.dropFirst("char".count))] = String(chardev.filename.dropFirst("pty:".count))
        }
        return ptys
    }
}
