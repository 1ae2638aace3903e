import Testing
import VirtKitQMP
@testable import VirtKitGuestAgent

/// The protocol state without I/O: what each exchange accepts and when the channel is in sync.
@Suite struct StateMachineTests {
    typealias Machine = GuestAgentStateMachine<String>

    /// The waiter and result an action resumes, if any.
    func resumed(_ action: Machine.Action) -> (String, Result<Machine.Outcome, GuestAgent.Error>)? {
        guard case .resume(let waiter, let result) = action else { return nil }
        return (waiter, result)
    }

    @Test func delimitedSyncWantsTheSentinelThenItsID() {
        var machine = Machine()
        #expect(!machine.isInSync)
        guard case .send = machine.start(.sync(id: 42, delimited: true), command: "guest-ping", waiter: "w") else {
            Issue.record("start refused")
            return
        }
        #expect(resumed(machine.received(["return": 42])) == nil)  // no sentinel yet
        #expect(resumed(machine.receivedMalformed(raw: "junk")) == nil)
        #expect(resumed(machine.receivedSentinel()) == nil)
        #expect(resumed(machine.received(["return": 41])) == nil)  // an older sync's answer
        #expect(resumed(machine.received(["return": 42])) == nil)  // needs a sentinel of its own
        _ = machine.receivedSentinel()
        let done = resumed(machine.received(["return": 42]))
        #expect(done?.0 == "w" && done?.1 == .success(.synced))
        #expect(machine.isInSync)
    }

    @Test func unknownDelimitedSyncIsRecognised() {
        var machine = Machine()
        _ = machine.start(.sync(id: 1, delimited: true), command: "guest-ping", waiter: "w")
        #expect(resumed(machine.received(["error": ["class": "CommandNotFound", "desc": "The command guest-ping has not been found"]])) == nil)
        let done = resumed(machine.received(
            ["error": ["class": "CommandNotFound", "desc": "The command guest-sync-delimited has not been found"]]))
        #expect(done?.1 == .success(.delimitedSyncUnknown))
        #expect(!machine.isInSync)
    }

    @Test func timeoutsAndStrayRepliesLoseSync() {
        var machine = Machine()
        guard case .send(let serial) = machine.start(.sync(id: 5, delimited: false), command: "guest-info", waiter: "s") else { return }
        #expect(resumed(machine.received(["return": 5]))?.1 == .success(.synced))
        guard case .send(let replySerial) = machine.start(.reply, command: "guest-info", waiter: "r") else { return }
        #expect(resumed(machine.waitEnded(serial: serial)) == nil)  // a stale timer
        #expect(resumed(machine.waitEnded(serial: replySerial))?.1 == .failure(.timedOut(command: "guest-info")))
        #expect(!machine.isInSync)

        _ = machine.start(.sync(id: 6, delimited: false), command: "guest-info", waiter: "s")
        _ = machine.received(["return": 6])
        #expect(machine.isInSync)
        _ = machine.received(["return": [:]])  // nobody asked
        #expect(!machine.isInSync)
    }

    @Test func errorOnlyEndsQuietlyOnTimeoutOrClose() {
        var machine = Machine()
        guard case .send(let serial) = machine.start(.errorOnly, command: "guest-shutdown", waiter: "a") else { return }
        #expect(resumed(machine.waitEnded(serial: serial))?.1 == .success(.noReply))
        _ = machine.start(.errorOnly, command: "guest-shutdown", waiter: "b")
        #expect(resumed(machine.connectionClosed())?.1 == .success(.noReply))
        guard case .fail(let waiter, let error) = machine.start(.reply, command: "guest-ping", waiter: "c") else {
            Issue.record("a closed machine accepted an exchange")
            return
        }
        #expect(waiter == "c" && error == .notConnected)
    }

    @Test func closingFailsAReplyWaiter() {
        var machine = Machine()
        _ = machine.start(.reply, command: "guest-ping", waiter: "a")
        #expect(resumed(machine.connectionClosed())?.1 == .failure(.disconnected))
    }
}
