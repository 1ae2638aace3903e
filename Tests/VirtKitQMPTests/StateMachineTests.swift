import Testing
@testable import VirtKitQMP

/// The protocol state machine alone: no sockets, waiters are plain strings.
@Suite("QMP state machine")
struct StateMachineTests {
    typealias Machine = QMPStateMachine<String>

    static let greeting: QMP.Value = [
        "QMP": ["version": ["qemu": ["micro": 1, "minor": 2, "major": 7], "package": "pkg"], "capabilities": ["oob"]],
    ]

    /// A machine that has greeted and negotiated.
    static func readyMachine() throws -> Machine {
        var machine = Machine()
        guard case .send(let capabilities) = machine.received(greeting) else {
            Issue.record("no qmp_capabilities")
            return machine
        }
        let id = try #require(capabilities["id"])
        guard case .connected = machine.received(["return": [:], "id": id]) else {
            Issue.record("not connected")
            return machine
        }
        return machine
    }

    static func sentID(_ action: Machine.StartAction) -> Int64? {
        if case .send(let id, _) = action { return id }
        return nil
    }

    @Test func greetingThenNegotiationThenReady() throws {
        var machine = Machine()
        #expect(!machine.isReady)
        guard case .send(let message) = machine.received(Self.greeting) else {
            Issue.record("expected qmp_capabilities")
            return
        }
        #expect(message["execute"] == "qmp_capabilities")
        let id = try #require(message["id"]?.int64)
        #expect(!machine.isReady)
        guard case .connected(let greeting) = machine.received(["return": [:], "id": .int(id)]) else {
            Issue.record("expected connected")
            return
        }
        #expect(greeting.version == QMP.Version(major: 7, minor: 2, micro: 1, package: "pkg"))
        #expect(greeting.capabilities == ["oob"])
        #expect(machine.isReady)
    }

    @Test func somethingElseFirstIsNoGreeting() {
        var machine = Machine()
        guard case .close(let error, let waiters) = machine.received(["return": [:]]) else {
            Issue.record("expected close")
            return
        }
        #expect(error == .greetingMissing)
        #expect(waiters.isEmpty)
        #expect(machine.isClosed)
    }

    @Test func malformedLineBeforeGreetingCloses() {
        var machine = Machine()
        guard case .close(let error, _) = machine.receivedMalformed(raw: "garbage") else {
            Issue.record("expected close")
            return
        }
        #expect(error == .malformed(raw: "garbage"))
    }

    @Test func malformedLineWhenReadyIsSkipped() throws {
        var machine = try Self.readyMachine()
        let id = try #require(Self.sentID(machine.startCommand("stop", arguments: nil, waiter: "a")))
        guard case .none = machine.receivedMalformed(raw: "{oops") else {
            Issue.record("expected nothing")
            return
        }
        guard case .succeed("a", .object) = machine.received(["return": [:], "id": .int(id)]) else {
            Issue.record("expected the reply to still arrive")
            return
        }
    }

    @Test func failedNegotiationCloses() throws {
        var machine = Machine()
        guard case .send(let message) = machine.received(Self.greeting) else { return }
        let reply: QMP.Value = ["id": message["id"] ?? .null, "error": ["class": "GenericError", "desc": "no"]]
        guard case .close(let error, _) = machine.received(reply) else {
            Issue.record("expected close")
            return
        }
        #expect(error == .commandFailed(class: "GenericError", description: "no"))
    }

    @Test func closingBeforeOrDuringHandshake() throws {
        var early = Machine()
        guard case .close(.greetingMissing, _) = early.connectionClosed() else {
            Issue.record("expected greetingMissing")
            return
        }
        var negotiating = Machine()
        _ = negotiating.received(Self.greeting)
        guard case .close(.timeout(command: "qmp_capabilities"), _) = negotiating.handshakeTimedOut() else {
            Issue.record("expected a qmp_capabilities timeout")
            return
        }
        var silent = Machine()
        guard case .close(.timeout(command: "greeting"), _) = silent.handshakeTimedOut() else {
            Issue.record("expected a greeting timeout")
            return
        }
        var ready = try Self.readyMachine()
        guard case .none = ready.handshakeTimedOut() else {
            Issue.record("a late handshake timer must not close")
            return
        }
    }

    @Test func commandsBeforeReadyFail() {
        var machine = Machine()
        guard case .fail("w", .disconnected) = machine.startCommand("stop", arguments: nil, waiter: "w") else {
            Issue.record("expected disconnected")
            return
        }
    }

    @Test func commandsCarryIncreasingIDsAndArguments() throws {
        var machine = try Self.readyMachine()
        guard case .send(let first, let message) = machine.startCommand(
            "human-monitor-command", arguments: ["command-line": "info status"], waiter: "a")
        else {
            Issue.record("expected send")
            return
        }
        #expect(message.jsonString == #"{"execute":"human-monitor-command","arguments":{"command-line":"info status"},"id":\#(first)}"#)
        let second = try #require(Self.sentID(machine.startCommand("stop", arguments: nil, waiter: "b")))
        #expect(second == first + 1)
        #expect(machine.pendingCount == 2)
    }

    @Test func repliesMatchedByIDInAnyOrder() throws {
        var machine = try Self.readyMachine()
        let a = try #require(Self.sentID(machine.startCommand("a", arguments: nil, waiter: "A")))
        let b = try #require(Self.sentID(machine.startCommand("b", arguments: nil, waiter: "B")))
        guard case .succeed("B", "two") = machine.received(["return": "two", "id": .int(b)]) else {
            Issue.record("B first")
            return
        }
        guard case .emit(let event) = machine.received(["event": "STOP", "timestamp": ["seconds": 1, "microseconds": 5]]) else {
            Issue.record("event in between")
            return
        }
        #expect(event.kind == .stop)
        #expect(event.data == .object([:]))
        guard case .succeed("A", "one") = machine.received(["id": .int(a), "return": "one"]) else {
            Issue.record("then A")
            return
        }
        #expect(machine.pendingCount == 0)
    }

    @Test func errorReplyFailsWithClassAndDescription() throws {
        var machine = try Self.readyMachine()
        let id = try #require(Self.sentID(machine.startCommand("nope", arguments: nil, waiter: "w")))
        let reply: QMP.Value = ["id": .int(id), "error": ["class": "CommandNotFound", "desc": "The command nope has not been found"]]
        guard case .fail("w", let error) = machine.received(reply) else {
            Issue.record("expected failure")
            return
        }
        #expect(error == .commandFailed(class: "CommandNotFound", description: "The command nope has not been found"))
    }

    @Test func errorThatIsNotAnObjectIsMalformed() throws {
        var machine = try Self.readyMachine()
        let id = try #require(Self.sentID(machine.startCommand("x", arguments: nil, waiter: "w")))
        guard case .fail("w", .malformed) = machine.received(["id": .int(id), "error": "bad"]) else {
            Issue.record("expected malformed")
            return
        }
    }

    @Test func lateReplyAfterTimeoutIsDropped() throws {
        var machine = try Self.readyMachine()
        let id = try #require(Self.sentID(machine.startCommand("slow", arguments: nil, waiter: "w")))
        guard case .fail("w", .timeout(command: "slow")) = machine.timedOut(id: id) else {
            Issue.record("expected timeout")
            return
        }
        guard case .none = machine.received(["return": [:], "id": .int(id)]) else {
            Issue.record("late reply must be dropped")
            return
        }
        guard case .none = machine.timedOut(id: id) else {
            Issue.record("second timeout must do nothing")
            return
        }
        #expect(machine.isReady)
    }

    @Test func repliesWithUnknownOrMissingIDAreDropped() throws {
        var machine = try Self.readyMachine()
        _ = machine.startCommand("x", arguments: nil, waiter: "w")
        guard case .none = machine.received(["return": [:], "id": 999]) else { Issue.record("unknown id"); return }
        guard case .none = machine.received(["return": [:]]) else { Issue.record("no id"); return }
        guard case .none = machine.received(["return": [:], "id": "text"]) else { Issue.record("text id"); return }
        #expect(machine.pendingCount == 1)
    }

    @Test func rawCommandGetsOwnIDAndReplyGetsCallersBack() throws {
        var machine = try Self.readyMachine()
        let command: QMP.Value = ["execute": "query-status", "id": ["tag": "mine"]]
        guard case .send(let id, let message) = machine.startRaw(command, waiter: "w") else {
            Issue.record("expected send")
            return
        }
        #expect(message == ["execute": "query-status", "id": .int(id)])
        let reply: QMP.Value = ["return": ["running": false], "id": .int(id)]
        guard case .succeed("w", let whole) = machine.received(reply) else {
            Issue.record("expected success")
            return
        }
        #expect(whole.jsonString == #"{"return":{"running":false},"id":{"tag":"mine"}}"#)
    }

    @Test func rawCommandWithoutIDAndErrorReplyComesBackWhole() throws {
        var machine = try Self.readyMachine()
        guard case .send(let id, _) = machine.startRaw(["execute": "nope"], waiter: "w") else { return }
        let reply: QMP.Value = ["id": .int(id), "error": ["class": "CommandNotFound", "desc": "x"]]
        guard case .succeed("w", let whole) = machine.received(reply) else {
            Issue.record("an error reply is a raw result too")
            return
        }
        #expect(whole.jsonString == #"{"error":{"class":"CommandNotFound","desc":"x"}}"#)
    }

    @Test func rawCommandThatIsNotAnObjectFails() throws {
        var machine = try Self.readyMachine()
        guard case .fail("w", .commandFailed(class: "GenericError", _)) = machine.startRaw("text", waiter: "w") else {
            Issue.record("expected failure")
            return
        }
    }

    @Test func closeFailsEveryWaiterInIDOrderOnce() throws {
        var machine = try Self.readyMachine()
        for waiter in ["a", "b", "c"] { _ = machine.startCommand(waiter, arguments: nil, waiter: waiter) }
        guard case .close(.disconnected, let waiters) = machine.connectionClosed() else {
            Issue.record("expected close")
            return
        }
        #expect(waiters == ["a", "b", "c"])
        #expect(machine.isClosed)
        guard case .none = machine.close(.disconnected) else { Issue.record("closed twice"); return }
        guard case .fail("d", .disconnected) = machine.startCommand("d", arguments: nil, waiter: "d") else {
            Issue.record("commands after close fail")
            return
        }
        guard case .none = machine.received(["event": "STOP"]) else { Issue.record("nothing after close"); return }
    }

    @Test func fatalErrorIsPassedToWaiters() throws {
        var machine = try Self.readyMachine()
        _ = machine.startCommand("a", arguments: nil, waiter: "a")
        guard case .close(.lineTooLong, ["a"]) = machine.close(.lineTooLong) else {
            Issue.record("expected lineTooLong")
            return
        }
    }

    @Test func modifyWaiterOnlyWhilePending() throws {
        var machine = try Self.readyMachine()
        let id = try #require(Self.sentID(machine.startCommand("a", arguments: nil, waiter: "a")))
        #expect(machine.modifyWaiter(id: id) { $0 = "a2" })
        guard case .succeed("a2", _) = machine.received(["return": 1, "id": .int(id)]) else {
            Issue.record("modified waiter")
            return
        }
        #expect(!machine.modifyWaiter(id: id) { $0 = "x" })
    }
}
