import Testing
@testable import VirtKitQMP

/// Pipelined negotiation (what a start uses): ready once `qmp_capabilities` is sent, commands
/// queued behind it, a refused negotiation failing them.
@Suite("QMP pipelined negotiation", .timeLimit(.minutes(3)))
struct PipelinedNegotiationTests {
    typealias Machine = QMPStateMachine<String>

    @Test func readyOnceCapabilitiesAreSent() throws {
        var machine = Machine(pipelinesNegotiation: true)
        #expect(!machine.isReady)
        guard case .sendAndConnect(let capabilities, let greeting) = machine.received(StateMachineTests.greeting) else {
            Issue.record("expected qmp_capabilities with the connection ready")
            return
        }
        #expect(capabilities["execute"] == "qmp_capabilities")
        #expect(greeting.capabilities == ["oob"])
        #expect(machine.isReady)
        // A command before QEMU answered the negotiation goes out after it.
        let commandID = try #require(StateMachineTests.sentID(machine.startCommand("query-chardev", arguments: nil, waiter: "chardevs")))
        #expect(commandID != capabilities["id"]?.int64)
        guard case .none = machine.received(["return": [:], "id": capabilities["id"] ?? .null]) else {
            Issue.record("the negotiation's answer must not connect twice")
            return
        }
        guard case .succeed(let waiter, let value) = machine.received(["return": [], "id": .int(commandID)]) else {
            Issue.record("expected the command's answer")
            return
        }
        #expect(waiter == "chardevs")
        #expect(value == [])
        #expect(machine.isReady)
    }

    @Test func refusedNegotiationFailsWhatWasQueued() throws {
        var machine = Machine(pipelinesNegotiation: true)
        guard case .sendAndConnect(let capabilities, _) = machine.received(StateMachineTests.greeting) else {
            Issue.record("expected qmp_capabilities")
            return
        }
        _ = machine.startCommand("cont", arguments: nil, waiter: "cont")
        let refusal: QMP.Value = ["error": ["class": "GenericError", "desc": "nope"], "id": capabilities["id"] ?? .null]
        guard case .close(let error, let failing) = machine.received(refusal) else {
            Issue.record("expected close")
            return
        }
        #expect(error == .commandFailed(class: "GenericError", description: "nope"))
        #expect(failing == ["cont"])
        #expect(machine.isClosed)
    }

    @Test func clientReturnsBeforeQEMUAnswersAndCommandsWait() async throws {
        try await FakeQMPServer.with { server in
            let connecting = Task { try await QMP.Client.connect(unixPath: server.path, timeout: .seconds(5), pipelined: true) }
            let peer = try await server.accept()
            try await peer.write(FakeQMPPeer.greeting + "\r\n")
            let negotiation = try await peer.readCommand()
            #expect(negotiation.name == "qmp_capabilities")
            // Not answered yet: a pipelined connect has returned all the same.
            let client = try await connecting.value
            #expect(client.isConnected)
            let status = Task { try await client.execute("query-status", timeout: .seconds(5)) }
            let command = try await peer.readCommand()
            #expect(command.name == "query-status")
            try await peer.reply(id: negotiation.id)
            try await peer.reply(id: command.id, ["status": "prelaunch", "running": false])
            #expect(try await status.value["status"] == "prelaunch")
            await client.close()
        }
    }
}
