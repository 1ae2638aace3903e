import Testing
import VirtKitQMP
@testable import VirtKitRuntime

/// The start's phases and cleanup, driven without QEMU: what the sequence asks for after each
/// event, and what it undoes when a step fails.
@Suite("Start sequence")
struct StartSequenceTests {
    typealias Sequence = StartSequence
    private static let announced = ["serial0": "/dev/pts/7", "console1": "/dev/pts/8"]
    private static let everything: [Sequence.Resource] = [.monitor, .qmp, .brokers, .process, .socketFiles, .runDirectory]

    /// Feeds `events` and returns the actions each one led to.
    private func feed(_ machine: inout Sequence, _ events: [Sequence.Event]) -> [[Sequence.Action]] {
        events.map { machine.handle($0) }
    }

    private func machineAtPtys(paused: Bool = false) -> Sequence {
        var machine = Sequence(paused: paused, ptyAliases: ["serial0", "console1"])
        _ = feed(&machine, [.begin, .prepared, .spawned, .qmpConnected, .liveDefinitionWritten])
        return machine
    }

    @Test func announcedPtysSendContBehindQueryChardev() {
        var machine = Sequence(paused: false, ptyAliases: ["serial0", "console1"])
        let batches = feed(&machine, [
            .begin, .prepared, .spawned, .qmpConnected, .liveDefinitionWritten, .ptysRead(Self.announced),
            .consolesAttached, .statusWritten, .chardevsQueried(.success(Self.announced)), .guestMade, .contAnswered(nil),
        ])
        #expect(batches == [
            [.prepare], [.spawn], [.startBrokers, .connectQMP], [.queryChardev, .writeLiveDefinition],
            [.startMonitor, .readAnnouncedPtys], [.attachConsoles(ptys: Self.announced)], [.writeStatus(ptys: Self.announced)],
            [.sendCont, .awaitChardevs], [.makeGuest], [.awaitCont], [.finish],
        ])
        #expect(machine.phase == .started && machine.ledger.isEmpty)
    }

    @Test func unannouncedPtysWaitForQueryChardevFirst() {
        var machine = machineAtPtys()
        let queried = ["serial0": "/dev/pts/3", "console1": "/dev/pts/4"]
        let batches = feed(&machine, [
            .ptysRead(["serial0": "/dev/pts/3"]), .chardevsQueried(.success(queried)), .consolesAttached, .statusWritten,
            .guestMade, .contAnswered(nil),
        ])
        #expect(batches == [
            [.awaitChardevs], [.attachConsoles(ptys: queried)], [.writeStatus(ptys: queried)], [.makeGuest],
            [.sendCont, .awaitCont], [.finish],
        ])
        #expect(!machine.ptysAnnounced)
    }

    @Test(arguments: [true, false])
    func aPausedStartNeverSendsCont(announced: Bool) {
        var machine = machineAtPtys(paused: true)
        let ptys = announced ? Self.announced : [:]
        var actions = feed(&machine, [.ptysRead(ptys)]).flatMap { $0 }
        if !announced { actions += machine.handle(.chardevsQueried(.success(Self.announced))) }
        actions += feed(&machine, [.consolesAttached, .statusWritten]).flatMap { $0 }
        if announced { actions += machine.handle(.chardevsQueried(.success(Self.announced))) }
        actions += machine.handle(.guestMade)
        #expect(!actions.contains(.sendCont) && !actions.contains(.awaitCont))
        #expect(actions.last == .finish)
    }

    @Test func noPtysAtAllCountAsAnnounced() {
        var machine = Sequence(paused: false, ptyAliases: [])
        _ = feed(&machine, [.begin, .prepared, .spawned, .qmpConnected, .liveDefinitionWritten])
        #expect(machine.handle(.ptysRead([:])) == [.attachConsoles(ptys: [:])])
        _ = machine.handle(.consolesAttached)
        #expect(machine.handle(.statusWritten) == [.sendCont, .awaitChardevs])
    }

    @Test func failuresBeforeQEMURunsUndoThePreparation() {
        let error = RuntimeError(.operationFailed, "cannot prepare domain 'vm': no space")
        let prepared: [Sequence.Resource] = [.servedListeners, .qemuDescriptors, .socketFiles, .runDirectory]
        var atPrepare = Sequence(paused: false, ptyAliases: [])
        _ = atPrepare.handle(.begin)
        #expect(atPrepare.handle(.failed(error)) == [.abort(.runtime(error), undo: prepared)])
        var atSpawn = Sequence(paused: false, ptyAliases: [])
        _ = feed(&atSpawn, [.begin, .prepared])
        #expect(atSpawn.handle(.failed(error)) == [.abort(.runtime(error), undo: prepared)])
        #expect(atSpawn.handle(.spawned) == [], "nothing more after a failure")
    }

    @Test func aQEMUThatDiesBeforeItsGreetingIsKilledAndCleanedUp() {
        var machine = Sequence(paused: false, ptyAliases: [])
        _ = feed(&machine, [.begin, .prepared, .spawned])
        #expect(machine.handle(.qmpConnectFailed) == [
            .abort(.qemu(Sequence.exitedWhileConnecting), undo: [.brokers, .process, .socketFiles, .runDirectory]),
        ])
    }

    @Test func theLiveDefinitionFailingUndoesAllButTheMonitor() {
        var machine = Sequence(paused: false, ptyAliases: [])
        _ = feed(&machine, [.begin, .prepared, .spawned, .qmpConnected])
        #expect(machine.handle(.qemuFailed("cannot save the live definition: EIO")) == [
            .abort(.qemu("cannot save the live definition: EIO"), undo: [.qmp, .brokers, .process, .socketFiles, .runDirectory]),
        ])
    }

    @Test(arguments: [QMP.Error.disconnected, .timeout(command: "query-chardev")])
    func consolesFailingWithAnnouncedPtysAskQueryChardevWhy(error: QMP.Error) {
        var machine = machineAtPtys()
        _ = machine.handle(.ptysRead(Self.announced))
        #expect(machine.handle(.consolesFailed("cannot serve the consoles: refused")) == [.awaitChardevs])
        let why = error == .disconnected ? Sequence.exitedWhileConnecting : "cannot serve the consoles: refused"
        #expect(machine.handle(.chardevsQueried(.failure(error))) == [.abort(.qemu(why), undo: Self.everything)])
    }

    @Test func consolesFailingAfterQueryChardevAbortAtOnce() {
        var machine = machineAtPtys()
        _ = feed(&machine, [.ptysRead([:]), .chardevsQueried(.success(Self.announced))])
        #expect(machine.handle(.consolesFailed("cannot serve the consoles: x")) == [
            .abort(.qemu("cannot serve the consoles: x"), undo: Self.everything),
        ])
    }

    @Test func queryChardevFailingIsToldAsSuch() {
        var machine = machineAtPtys()
        _ = feed(&machine, [.ptysRead(Self.announced), .consolesAttached, .statusWritten])
        let error = QMP.Error.timeout(command: "query-chardev")
        #expect(machine.handle(.chardevsQueried(.failure(error))) == [
            .abort(.qemu("query-chardev failed: \(error)"), undo: Self.everything),
        ])
    }

    @Test func anAnnouncedPtyThatQueryChardevContradictsFailsTheStart() {
        var machine = machineAtPtys()
        _ = feed(&machine, [.ptysRead(Self.announced), .consolesAttached, .statusWritten])
        let queried = ["serial0": "/dev/pts/7", "console1": "/dev/pts/9"]
        #expect(machine.handle(.chardevsQueried(.success(queried))) == [
            .abort(.qemu("QEMU announced pty /dev/pts/8 for chardev 'console1', query-chardev gives /dev/pts/9"),
                   undo: Self.everything),
        ])
    }

    @Test func anExtraPtyIsRecordedAndAFailedContDestroysTheGuest() {
        var machine = machineAtPtys()
        _ = feed(&machine, [.ptysRead(Self.announced), .consolesAttached, .statusWritten])
        var queried = Self.announced
        queried["serial9"] = "/dev/pts/10"
        #expect(machine.handle(.chardevsQueried(.success(queried))) == [.rewriteStatus(ptys: queried), .makeGuest])
        #expect(machine.handle(.guestMade) == [.awaitCont], "cont went out before the guest was made")
        #expect(machine.handle(.contAnswered(.disconnected)) == [.abandonGuest(.disconnected)])
        #expect(machine.ledger.isEmpty, "the guest owns everything; it is destroyed its own way")
    }

    @Test func queryChardevsPtysByAlias() {
        let chardevs = [
            QMP.ChardevInfo(label: "charserial0", filename: "pty:/dev/pts/3", frontendOpen: true),
            QMP.ChardevInfo(label: "charmonitor", filename: "unix:/run/m.sock,server=on", frontendOpen: true),
        ]
        #expect(Sequence.ptys(from: chardevs) == ["serial0": "/dev/pts/3"])
    }
}
