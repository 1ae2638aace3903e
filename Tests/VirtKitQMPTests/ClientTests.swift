import Foundation
import NIOCore
import Synchronization
import Testing
@testable import VirtKitQMP

/// Commands, replies and events against the fake server's edge cases. The time limit catches a
/// hang, not slowness: every write of the fake server hops between NIO and the concurrency pool,
/// and under a full CI run (TCG guests on both cores) one test of byte-by-byte writes took 102 s.
@Suite("QMP.Client protocol", .timeLimit(.minutes(3)))
struct ClientTests {
    @Test func repliesOutOfOrderReachTheirCallers() async throws {
        try await FakeQMPServer.with { server in
            let (client, peer) = try await server.connectClient()
            async let first = client.execute("first")
            async let second = client.execute("second", arguments: ["x": 1])
            var commands: [String: QMP.Value] = [:]
            for _ in 0..<2 {
                let command = try await peer.readCommand()
                commands[command.name] = command.id
            }
            try await peer.reply(id: commands["second"] ?? .null, "two")
            try await peer.reply(id: commands["first"] ?? .null, "one")
            #expect(try await first == "one")
            #expect(try await second == "two")
            await client.close()
        }
    }

    @Test func eventsInterleavedWithRepliesReachEverySubscriber() async throws {
        try await FakeQMPServer.with { server in
            let (client, peer) = try await server.connectClient()
            let streamA = client.events()
            let streamB = client.events()
            async let status = client.queryStatus()
            let command = try await peer.readCommand()
            #expect(command.name == "query-status")
            try await peer.write(
                #"{"timestamp": {"seconds": 10, "microseconds": 500000}, "event": "STOP"}"# + "\r\n"
                    + #"{"return": {"status": "paused", "singlestep": false, "running": false}, "id": \#(command.id)}"# + "\r\n"
                    + #"{"timestamp": {"seconds": 11, "microseconds": 0}, "event": "VSERPORT_CHANGE", "data": {"id": "channel0", "open": true}}"# + "\r\n")
            let result = try await status
            #expect(result.running == false)
            #expect(result.status == "paused")
            await peer.close()
            for stream in [streamA, streamB] {
                var received: [QMP.Event] = []
                for await event in stream { received.append(event) }
                #expect(received.map(\.kind) == [.stop, .vserportChange])
                #expect(received.first?.timestamp == Date(timeIntervalSince1970: 10.5))
                #expect(received.last?.data["open"] == true)
            }
        }
    }

    @Test func eventsBeforeSubscribingAreNotReplayed() async throws {
        try await FakeQMPServer.with { server in
            let (client, peer) = try await server.connectClient()
            try await peer.send(["event": "RESET", "timestamp": ["seconds": 1, "microseconds": 0]])
            // A round trip makes sure the event has been handled before subscribing.
            async let sync = client.execute("sync")
            try await peer.reply(id: try await peer.readCommand().id)
            _ = try await sync
            let stream = client.events()
            try await peer.send(["event": "RESUME", "timestamp": ["seconds": 2, "microseconds": 0]])
            await peer.close()
            var names: [String] = []
            for await event in stream { names.append(event.name) }
            #expect(names == ["RESUME"])
        }
    }

    @Test func errorReplyThrowsCommandFailed() async throws {
        try await FakeQMPServer.with { server in
            let (client, peer) = try await server.connectClient()
            let result = Task { try await client.execute("nope") }
            let command = try await peer.readCommand()
            try await peer.write(
                #"{"id": \#(command.id), "error": {"class": "CommandNotFound", "desc": "The command nope has not been found"}}"# + "\r\n")
            await #expect(throws: QMP.Error.commandFailed(class: "CommandNotFound", description: "The command nope has not been found")) {
                try await result.value
            }
            #expect(client.isConnected)
            await client.close()
        }
    }

    @Test func replySplitAcrossManyWritesAndManyRepliesInOneWrite() async throws {
        try await FakeQMPServer.with { server in
            let (client, peer) = try await server.connectClient()
            // A day: this is about framing, and one byte a write can take long on a busy machine;
            // the suite's time limit ends a real hang.
            async let split = client.execute("split", timeout: .seconds(86_400))
            let command = try await peer.readCommand()
            let text = #"{"return": {"text": "a long-ish reply \u00e9 that arrives in pieces"}, "id": \#(command.id)}"# + "\r\n"
            for byte in text.utf8 {
                try await peer.write(String(decoding: [byte], as: UTF8.self))
            }
            #expect(try await split["text"] == "a long-ish reply é that arrives in pieces")

            async let a = client.execute("a")
            async let b = client.execute("b")
            async let c = client.execute("c")
            var ids: [String: QMP.Value] = [:]
            for _ in 0..<3 {
                let command = try await peer.readCommand()
                ids[command.name] = command.id
            }
            let batch = ["c", "a", "b"].map { name in
                #"{"return": "\#(name)!", "id": \#(ids[name] ?? .null)}"# + "\r\n"
            }.joined()
            try await peer.write(batch + #"{"event": "POWERDOWN"}"# + "\n")
            #expect(try await [a, b, c] == ["a!", "b!", "c!"])
            await client.close()
        }
    }

    @Test func malformedLineIsSkippedAndTheConnectionGoesOn() async throws {
        try await FakeQMPServer.with { server in
            let (client, peer) = try await server.connectClient()
            async let result = client.execute("x")
            let command = try await peer.readCommand()
            try await peer.write("this is {not json\r\n{\"truncated\": \r\n")
            try await peer.reply(id: command.id, 42)
            #expect(try await result == 42)
            // A reply with our id that is neither a return nor an object error fails that call alone.
            let odd = Task { try await client.execute("odd") }
            let oddCommand = try await peer.readCommand()
            try await peer.send(["id": oddCommand.id, "error": "text"])
            await #expect(throws: QMP.Error.self) { try await odd.value }
            #expect(client.isConnected)
            await client.close()
        }
    }

    @Test func serverClosingMidCommandFailsEveryWaiterAtOnce() async throws {
        try await FakeQMPServer.with { server in
            let (client, peer) = try await server.connectClient()
            let events = client.events()
            let clock = ContinuousClock()
            let start = clock.now
            try await withThrowingTaskGroup(of: QMP.Error?.self) { group in
                for index in 0..<5 {
                    group.addTask {
                        do {
                            _ = try await client.execute("wait-\(index)", timeout: .seconds(30))
                            return nil
                        } catch {
                            return error as? QMP.Error
                        }
                    }
                }
                for _ in 0..<5 { _ = try await peer.readCommand() }
                await peer.close()
                for try await error in group { #expect(error == .disconnected) }
            }
            #expect(clock.now - start < .seconds(15), "failed at once, not after their 30 s timeouts")
            await client.waitClosed()
            #expect(!client.isConnected)
            for await _ in events {}
            for await _ in client.events() {}
            await #expect(throws: QMP.Error.disconnected) { try await client.execute("after") }
        }
    }

    @Test func timeoutThenLateReplyLeavesFramingIntact() async throws {
        try await FakeQMPServer.with { server in
            let (client, peer) = try await server.connectClient()
            let slow = Task { try await client.execute("slow", timeout: .milliseconds(100)) }
            let slowCommand = try await peer.readCommand()
            await #expect(throws: QMP.Error.timeout(command: "slow")) { try await slow.value }
            async let next = client.execute("next")
            let nextCommand = try await peer.readCommand()
            try await peer.reply(id: slowCommand.id, "late")
            try await peer.reply(id: nextCommand.id, "on time")
            #expect(try await next == "on time")
            #expect(client.isConnected)
            await client.close()
        }
    }

    @Test func hundredConcurrentCallsEachGetTheirOwnAnswer() async throws {
        try await FakeQMPServer.with { server in
            let (client, peer) = try await server.connectClient()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<100 {
                    group.addTask {
                        let reply = try await client.execute("echo", arguments: ["n": .int(Int64(index))])
                        #expect(reply["n"]?.int == index)
                    }
                }
                // Answer in batches of 10, each batch in reverse order and one write.
                var batch: [(id: QMP.Value, arguments: QMP.Value)] = []
                for _ in 0..<100 {
                    let command = try await peer.readCommand()
                    batch.append((command.id, command.message["arguments"] ?? .null))
                    if batch.count == 10 {
                        let text = batch.reversed().map { (["return": $0.arguments, "id": $0.id] as QMP.Value).jsonString + "\r\n" }
                        try await peer.write(text.joined())
                        batch = []
                    }
                }
                try await group.waitForAll()
            }
            await client.close()
        }
    }

    @Test func executeRawRestoresTheCallersIDAndKeepsTheReplyWhole() async throws {
        try await FakeQMPServer.with { server in
            let (client, peer) = try await server.connectClient()
            async let raw = client.executeRaw(try QMP.Value(json: #"{"execute": "query-name", "id": "user-7"}"#))
            let command = try await peer.readCommand()
            #expect(command.id != "user-7")
            #expect(command.message.object?.keys == ["execute", "id"])
            try await peer.write(#"{"return": {"name": "vm"}, "id": \#(command.id)}"# + "\r\n")
            #expect(try await raw.jsonString == #"{"return":{"name":"vm"},"id":"user-7"}"#)

            async let failing = client.executeRaw(["execute": "nope"])
            let failingCommand = try await peer.readCommand()
            try await peer.write(#"{"id": \#(failingCommand.id), "error": {"class": "CommandNotFound", "desc": "x"}}"# + "\n")
            #expect(try await failing == ["error": ["class": "CommandNotFound", "desc": "x"]])
            await client.close()
        }
    }

    @Test func callbackCallsGetTheirRepliesOnTheConnectionsLoop() async throws {
        try await FakeQMPServer.with { server in
            let (client, peer) = try await server.connectClient()
            let (results, sink) = AsyncStream.makeStream(of: (String, Result<QMP.Value, QMP.Error>, Bool).self)
            let loop = client.eventLoop
            // From the loop itself, as the monitor server calls it.
            try await loop.submit {
                client.executeRaw(["execute": "query-name", "id": "mine"]) { sink.yield(("raw", $0, loop.inEventLoop)) }
                client.execute("query-status") { sink.yield(("typed", $0, loop.inEventLoop)) }
                client.execute("failing") { sink.yield(("failing", $0, loop.inEventLoop)) }
            }.get()
            var ids: [String: QMP.Value] = [:]
            for _ in 0..<3 {
                let command = try await peer.readCommand()
                ids[command.name] = command.id
            }
            try await peer.reply(id: ids["query-status"] ?? .null, ["status": "running"])
            try await peer.write(#"{"error": {"class": "GenericError", "desc": "no"}, "id": \#(ids["failing"] ?? .null)}"# + "\n")
            try await peer.reply(id: ids["query-name"] ?? .null, ["name": "vm"])
            var got: [String: Result<QMP.Value, QMP.Error>] = [:]
            var iterator = results.makeAsyncIterator()
            for _ in 0..<3 {
                guard let (name, result, onLoop) = await iterator.next() else { break }
                #expect(onLoop)
                got[name] = result
            }
            #expect(got["raw"] == .success(["return": ["name": "vm"], "id": "mine"]))
            #expect(got["typed"] == .success(["status": "running"]))
            #expect(got["failing"] == .failure(.commandFailed(class: "GenericError", description: "no")))

            await client.close()
            let failed = Mutex<Result<QMP.Value, QMP.Error>?>(nil)
            client.executeRaw(["execute": "late"]) { result in failed.withLock { $0 = result } }
            #expect(failed.withLock { $0 } == .failure(.disconnected))
        }
    }

    @Test func humanSendsTheCommandLineAndReturnsText() async throws {
        try await FakeQMPServer.with { server in
            let (client, peer) = try await server.connectClient()
            async let text = client.human("info status")
            let command = try await peer.readCommand()
            #expect(command.name == "human-monitor-command")
            #expect(command.message["arguments"] == ["command-line": "info status"])
            try await peer.reply(id: command.id, "VM status: paused\r\n")
            #expect(try await text == "VM status: paused\r\n")
            await client.close()
        }
    }

    @Test func typedCommandsMapToTheirQMPNames() async throws {
        try await FakeQMPServer.with { server in
            let (client, peer) = try await server.connectClient()
            let calls: [(String, @Sendable () async throws -> Void)] = [
                ("cont", { try await client.cont() }),
                ("stop", { try await client.stop() }),
                ("system_powerdown", { try await client.systemPowerdown() }),
                ("system_reset", { try await client.systemReset() }),
            ]
            for (name, call) in calls {
                async let done: Void = call()
                let command = try await peer.readCommand()
                #expect(command.name == name)
                try await peer.reply(id: command.id)
                try await done
            }
            async let chardevs = client.queryChardev()
            var command = try await peer.readCommand()
            #expect(command.name == "query-chardev")
            try await peer.reply(id: command.id, [
                ["frontend-open": true, "filename": "unix:/tmp/x.sock,server=on", "label": "compat_monitor0"],
                ["frontend-open": false, "filename": "pty:/dev/pts/4", "label": "charserial0"],
            ])
            #expect(try await chardevs == [
                QMP.ChardevInfo(label: "compat_monitor0", filename: "unix:/tmp/x.sock,server=on", frontendOpen: true),
                QMP.ChardevInfo(label: "charserial0", filename: "pty:/dev/pts/4", frontendOpen: false),
            ])
            async let name = client.queryName()
            command = try await peer.readCommand()
            try await peer.reply(id: command.id, ["name": "guest1"])
            #expect(try await name == "guest1")
            async let version = client.queryVersion()
            command = try await peer.readCommand()
            try await peer.reply(id: command.id, ["qemu": ["micro": 0, "minor": 1, "major": 8], "package": ""])
            #expect(try await version == QMP.Version(major: 8, minor: 1, micro: 0))
            // quit: QEMU may hang up instead of answering.
            async let quit: Void = client.quit()
            command = try await peer.readCommand()
            #expect(command.name == "quit")
            await peer.close()
            try await quit
            await client.waitClosed()
        }
    }

    @Test func closeFailsWaitingCallsAndFinishesStreams() async throws {
        try await FakeQMPServer.with { server in
            let (client, peer) = try await server.connectClient()
            let events = client.events()
            let pending = Task { try await client.execute("pending") }
            _ = try await peer.readCommand()
            await client.close()
            await #expect(throws: QMP.Error.disconnected) { try await pending.value }
            for await _ in events {}
            await client.waitClosed()
            await client.close()
            await #expect(throws: FakeQMPError.peerClosed) { try await peer.readMessage() }
        }
    }
}

/// The 16 MiB line limit, apart from the rest: 17 MiB through a debug build under a loaded CI
/// run took 28-82 s, more than the protocol suite's one minute.
@Suite("QMP.Client line limit", .timeLimit(.minutes(5)))
struct ClientLineLimitTests {
    @Test func tooLongLineFailsWaitersAndCloses() async throws {
        try await FakeQMPServer.with { server in
            let (client, peer) = try await server.connectClient()
            // A generous timeout: this asserts the line limit, not how fast 17 MiB cross a debug build
            // under a loaded CI run (28-46 s seen there, against the default 30 s).
            let result = Task { try await client.execute("huge", timeout: .seconds(600)) }
            _ = try await peer.readCommand()
            let chunk = String(repeating: "a", count: 1 << 20)
            // The client hangs up after 16 MiB, so later writes may fail.
            for _ in 0..<17 { try? await peer.write(chunk) }
            await #expect(throws: QMP.Error.lineTooLong) { try await result.value }
            await client.waitClosed()
            #expect(!client.isConnected)
            await #expect(throws: QMP.Error.disconnected) { try await client.execute("after") }
        }
    }
}
