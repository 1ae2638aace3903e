import Foundation
import Testing
import VirtKitGuestAgent
import VirtKitQMP

/// The client against a scripted agent: the sync handshake, stale and late replies, framing,
/// libvirt's timeouts, commands without a success reply, errors and the connection's end.
@Suite("GuestAgent.Client against a fake agent", .timeLimit(.minutes(2))) struct ClientTests {
    /// Runs `body` with a client and a fake agent, and always closes both. A watchdog closes
    /// the client after 30 s, so a failed expectation cannot leave a call blocked for ever.
    func withAgent(_ body: (GuestAgent.Client, FakeAgent) async throws -> Void) async throws {
        let (client, agent) = try await FakeAgent.pair()
        // Unstructured on purpose: it must outlive a body that is stuck awaiting the client.
        let watchdog = Task {
            try await Task.sleep(for: .seconds(30))
            await client.close()
        }
        defer { watchdog.cancel() }
        do {
            try await body(client, agent)
        } catch {
            await client.close()
            await agent.close()
            throw error
        }
        await client.close()
        await agent.close()
    }

    /// What `body` threw, as a guest agent error.
    func failure<T>(_ body: () async throws(GuestAgent.Error) -> T) async -> GuestAgent.Error? {
        do {
            _ = try await body()
            return nil
        } catch {
            return error
        }
    }

    @Test func syncsOnceThenRunsCommands() async throws {
        try await withAgent { client, agent in
            async let ping: Void = client.ping()
            try await agent.answerSync()
            try await agent.expectCommand("guest-ping")
            try await agent.reply(["return": [:]])
            try await ping

            // In sync now: the next command goes out without a handshake.
            async let name = client.hostname()
            try await agent.expectCommand("guest-get-host-name")
            try await agent.reply(["return": ["host-name": "guest1"]])
            #expect(try await name == "guest1")
        }
    }

    @Test func staleRepliesAndPartialLinesBeforeTheSentinelAreDropped() async throws {
        try await withAgent { client, agent in
            // Blocking: this is about framing, and a busy machine must not turn it into a timeout.
            async let name = client.hostname(timeout: .block)
            let (flushed, sync) = try await agent.nextCommand()
            #expect(flushed)
            let id = try #require(sync["arguments"]?["id"]?.int64)
            // Replies left over from an earlier client, one of them our id's look-alike without a
            // sentinel, an error, garbage, and half a line that the sentinel cuts off.
            try await agent.write("{\"return\": \(id)}\n{\"return\": {\"host-name\": \"stale\"}}\r\n")
            try await agent.write("{\"error\": {\"class\": \"GenericError\", \"desc\": \"old\"}}\nnot json\n\n{\"ret")
            try await agent.write([0xFF] + Array("{\"return\": 12".utf8))  // a stale sync's id, in pieces
            try await agent.write("34}\n")
            try await agent.write([0xFF] + Array("{\"ret".utf8))
            try await agent.write("urn\": \(id)}\n")
            try await agent.expectCommand("guest-get-host-name")
            try await agent.write("{\"return\": {\"host-")
            try await agent.write("name\": \"fresh\"}}\r\n")
            #expect(try await name == "fresh")
        }
    }

    @Test func lateReplyToATimedOutCommandIsDroppedByTheNextSync() async throws {
        try await withAgent { client, agent in
            let clock = ContinuousClock()
            let start = clock.now
            // The timeout covers the sync too: long enough that a busy machine still gets the
            // sync across and the ping sent before it runs out.
            async let slow = failure { () async throws(GuestAgent.Error) in try await client.ping(timeout: .seconds(5)) }
            try await agent.answerSync()
            try await agent.expectCommand("guest-ping")
            #expect(await slow == .timedOut(command: "guest-ping"))
            let elapsed = clock.now - start
            // It waited its own timeout; an upper bound would only measure how busy the machine is.
            #expect(elapsed >= .milliseconds(4950))

            // The ping's reply arrives now, before the next sync's answer; it must not be taken
            // for the host name. (A long timeout: this is not about timeouts, and CI may be busy.)
            async let name = client.hostname(timeout: .seconds(30))
            try await agent.answerSync(before: Array("{\"return\": {}}\n".utf8))
            try await agent.expectCommand("guest-get-host-name")
            try await agent.reply(["return": ["host-name": "guest1"]])
            #expect(try await name == "guest1")
        }
    }

    @Test func syncThatIsNeverAnsweredTimesOut() async throws {
        try await withAgent { client, agent in
            async let result = failure { () async throws(GuestAgent.Error) in try await client.info(timeout: .seconds(1)) }
            _ = try await agent.nextCommand()
            #expect(await result == .timedOut(command: "guest-info"))
        }
    }

    @Test func noWaitReturnsAtOnceAndItsReplyIsDroppedLater() async throws {
        try await withAgent { client, agent in
            async let sent = client.execute("guest-fstrim", timeout: .noWait)
            try await agent.answerSync()
            try await agent.expectCommand("guest-fstrim")
            // Returns without any reply.
            #expect(try await sent == .null)

            async let name = client.hostname()
            try await agent.answerSync(before: Array("{\"return\": {\"paths\": []}}\n".utf8))
            try await agent.expectCommand("guest-get-host-name")
            try await agent.reply(["return": ["host-name": "guest1"]])
            #expect(try await name == "guest1")
        }
    }

    @Test func blockWaitsAndLaterCallsWaitTheirTurn() async throws {
        try await withAgent { client, agent in
            async let first = client.execute("guest-fsfreeze-freeze", timeout: .block)
            try await agent.answerSync()
            try await agent.expectCommand("guest-fsfreeze-freeze")

            // One call at a time: the second waits for the first's reply before it is sent, and
            // gives up waiting for its turn after its timeout.
            let clock = ContinuousClock()
            let start = clock.now
            let turn = await failure { () async throws(GuestAgent.Error) in try await client.ping(timeout: .seconds(1)) }
            #expect(turn == .timedOut(command: "guest-ping"))
            #expect(clock.now - start >= .milliseconds(950))
            #expect(try await agent.staysSilent(for: .milliseconds(100)))

            async let second = client.hostname()
            #expect(try await agent.staysSilent(for: .milliseconds(300)))
            try await agent.reply(["return": 2])
            #expect(try await first == 2)
            try await agent.expectCommand("guest-get-host-name")
            try await agent.reply(["return": ["host-name": "guest1"]])
            #expect(try await second == "guest1")
        }
    }

    @Test func commandsWithoutSuccessReplySucceedWhenNoErrorComes() async throws {
        try await withAgent { client, agent in
            let clock = ContinuousClock()
            let start = clock.now
            async let shutdown: Void = client.shutdown(mode: .reboot)
            try await agent.answerSync()
            let arguments = try await agent.expectCommand("guest-shutdown")
            #expect(arguments == ["mode": "reboot"])
            try await shutdown
            let elapsed = clock.now - start
            // The grace period passed (an upper bound would only measure the machine's load).
            #expect(elapsed >= .milliseconds(1900))

            // Not known to be in sync any more: the next command syncs first.
            async let ping: Void = client.ping()
            try await agent.answerSync()
            try await agent.expectCommand("guest-ping")
            try await agent.reply(["return": [:]])
            try await ping
        }
    }

    @Test func commandWithoutSuccessReplyFailsOnAnError() async throws {
        try await withAgent { client, agent in
            async let shutdown = failure { () async throws(GuestAgent.Error) in try await client.shutdown(mode: .halt) }
            try await agent.answerSync()
            try await agent.expectCommand("guest-shutdown")
            try await agent.reply(["error": ["class": "GenericError", "desc": "child process has failed to shutdown"]])
            #expect(await shutdown == .commandFailed(command: "guest-shutdown", class: "GenericError",
                                                     description: "child process has failed to shutdown"))
        }
    }

    @Test func commandWithoutSuccessReplySucceedsWhenTheGuestGoesAway() async throws {
        try await withAgent { client, agent in
            async let shutdown: Void = client.shutdown()
            try await agent.answerSync()
            #expect(try await agent.expectCommand("guest-shutdown") == ["mode": "powerdown"])
            // The guest going away is success (how soon after the close is the machine's business).
            await agent.close()
            try await shutdown
        }
    }

    @Test func errorReplyThrowsCommandFailed() async throws {
        try await withAgent { client, agent in
            async let result = failure { () async throws(GuestAgent.Error) in
                try await client.execute("guest-no-such-command", arguments: ["x": 1])
            }
            try await agent.answerSync()
            #expect(try await agent.expectCommand("guest-no-such-command") == ["x": 1])
            try await agent.reply(["error": ["class": "CommandNotFound", "desc": "The command guest-no-such-command has not been found"]])
            let error = await result
            #expect(error == .commandFailed(command: "guest-no-such-command", class: "CommandNotFound",
                                            description: "The command guest-no-such-command has not been found"))
            #expect(error?.description
                == "internal error: unable to execute QEMU agent command 'guest-no-such-command': The command guest-no-such-command has not been found")

            // An error reply leaves the channel in sync.
            async let ping: Void = client.ping()
            try await agent.expectCommand("guest-ping")
            try await agent.reply(["return": [:]])
            try await ping
        }
    }

    @Test func executeRawReturnsTheWholeReply() async throws {
        try await withAgent { client, agent in
            async let raw = client.executeRaw(json: #"{"execute": "guest-get-time"}"#)
            try await agent.answerSync()
            try await agent.expectCommand("guest-get-time")
            try await agent.write("{\"return\": 1700000000123456789}\r\n")
            #expect(try await raw == #"{"return":1700000000123456789}"#)

            async let failed = failure { () async throws(GuestAgent.Error) in
                try await client.executeRaw(json: #"{"execute":"guest-exec","arguments":{"path":"/nope"}}"#)
            }
            #expect(try await agent.expectCommand("guest-exec") == ["path": "/nope"])
            try await agent.reply(["error": ["class": "GenericError", "desc": "Guest agent command failed, error was 'Failed to execute child process'"]])
            #expect(await failed == .commandFailed(command: "guest-exec", class: "GenericError",
                                                   description: "Guest agent command failed, error was 'Failed to execute child process'"))

            // Text that is not JSON is refused before anything is sent.
            let notJSON = await failure { () async throws(GuestAgent.Error) in try await client.executeRaw(json: "{guest-ping") }
            #expect(notJSON == .malformed(raw: "{guest-ping"))
            #expect(try await agent.staysSilent(for: .milliseconds(100)))
        }
    }

    @Test func malformedReplyFailsAndTheNextCallResyncs() async throws {
        try await withAgent { client, agent in
            // Long timeouts: this is about malformed replies, and CI may be busy.
            async let first = failure { () async throws(GuestAgent.Error) in try await client.ping(timeout: .seconds(60)) }
            try await agent.answerSync()
            try await agent.expectCommand("guest-ping")
            try await agent.write("this is not json\n")
            #expect(await first == .malformed(raw: "this is not json"))

            async let second = failure { () async throws(GuestAgent.Error) in try await client.ping(timeout: .seconds(60)) }
            try await agent.answerSync()
            try await agent.expectCommand("guest-ping")
            try await agent.reply(["neither": true])
            #expect(await second == .malformed(raw: #"{"neither":true}"#))
        }
    }

    @Test func fallsBackToGuestSyncWhenDelimitedIsUnknown() async throws {
        try await withAgent { client, agent in
            async let ping: Void = client.ping()
            let (_, delimited) = try await agent.nextCommand()
            #expect(delimited["execute"] == "guest-sync-delimited")
            try await agent.reply(["error": ["class": "CommandNotFound", "desc": "The command guest-sync-delimited has not been found"]])
            let (flushed, sync) = try await agent.nextCommand()
            #expect(flushed)
            #expect(sync["execute"] == "guest-sync")
            let id = try #require(sync["arguments"]?["id"]?.int64)
            try await agent.write("{\"return\": {}}\n{\"return\": \(id)}\n")  // a stale reply first
            try await agent.expectCommand("guest-ping")
            try await agent.reply(["return": [:]])
            try await ping

            // Remembered: the next sync is a plain one straight away.
            async let timedOut = failure { () async throws(GuestAgent.Error) in try await client.ping(timeout: .seconds(1)) }
            try await agent.expectCommand("guest-ping")
            #expect(await timedOut == .timedOut(command: "guest-ping"))
            async let again: Void = client.ping()
            let (_, plain) = try await agent.nextCommand()
            #expect(plain["execute"] == "guest-sync")
            try await agent.reply(["return": plain["arguments"]?["id"] ?? .null])
            try await agent.expectCommand("guest-ping")
            try await agent.reply(["return": [:]])
            try await again
        }
    }

    @Test func peerClosingFailsTheWaitingCallThenLaterCallsAreNotConnected() async throws {
        try await withAgent { client, agent in
            async let waiting = failure { () async throws(GuestAgent.Error) in try await client.ping(timeout: .block) }
            try await agent.answerSync()
            try await agent.expectCommand("guest-ping")
            await agent.close()
            #expect(await waiting == .disconnected)
            #expect(!client.isConnected)
            #expect(await failure { () async throws(GuestAgent.Error) in try await client.ping() } == .notConnected)
            #expect(await failure { () async throws(GuestAgent.Error) in
                try await client.execute("guest-ping", timeout: .noWait)
            } == .notConnected)
        }
    }

    @Test func closingFailsTheWaitingCall() async throws {
        try await withAgent { client, agent in
            async let waiting = failure { () async throws(GuestAgent.Error) in try await client.ping(timeout: .block) }
            try await agent.answerSync()
            try await agent.expectCommand("guest-ping")
            await client.close()
            #expect(await waiting == .disconnected)
            #expect(await failure { () async throws(GuestAgent.Error) in try await client.ping() } == .notConnected)
        }
    }

    @Test func nothingListeningIsNotConnected() async throws {
        let path = "/tmp/vkga-nothing-\(getpid()).sock"
        let error = await failure { () async throws(GuestAgent.Error) in try await GuestAgent.Client.connect(unixPath: path) }
        #expect(error == .notConnected)
        #expect(error?.description == "Guest agent is not responding: QEMU guest agent is not connected")
        let longPath = "/tmp/" + String(repeating: "x", count: 120)
        #expect(await failure { () async throws(GuestAgent.Error) in
            try await GuestAgent.Client.connect(unixPath: longPath)
        } == .notConnected)
    }

    @Test func typedRepliesDecode() async throws {
        try await withAgent { client, agent in
            async let interfaces = client.networkInterfaces()
            try await agent.answerSync()
            try await agent.expectCommand("guest-network-get-interfaces")
            try await agent.write(#"""
                {"return": [{"name": "lo", "ip-addresses": [{"ip-address-type": "ipv4", "ip-address": "127.0.0.1", "prefix": 8}, {"ip-address-type": "ipv6", "ip-address": "::1", "prefix": 128}], "statistics": {"tx-packets": 2, "tx-errs": 0, "rx-bytes": 100, "rx-dropped": 0, "rx-packets": 2, "rx-errs": 0, "tx-bytes": 100, "tx-dropped": 0}, "hardware-address": "00:00:00:00:00:00"}, {"name": "eth0", "hardware-address": "52:54:00:12:34:56"}]}

                """#)
            let list = try await interfaces
            #expect(list.map(\.name) == ["lo", "eth0"])
            #expect(list[0].addresses == [.init(family: .ipv4, address: "127.0.0.1", prefix: 8),
                                          .init(family: .ipv6, address: "::1", prefix: 128)])
            #expect(list[0].statistics?.rxBytes == 100)
            #expect(list[1].hardwareAddress == "52:54:00:12:34:56" && list[1].addresses.isEmpty && list[1].statistics == nil)

            async let info = client.info()
            try await agent.expectCommand("guest-info")
            try await agent.reply(["return": ["version": "7.2.19", "supported_commands": [
                ["enabled": true, "name": "guest-ping", "success-response": true],
                ["enabled": false, "name": "guest-exec", "success-response": true],
                ["enabled": true, "name": "guest-shutdown", "success-response": false],
            ]]])
            let agentInfo = try await info
            #expect(agentInfo.version == "7.2.19")
            #expect(agentInfo.supports("guest-ping") && !agentInfo.supports("guest-exec") && !agentInfo.supports("guest-nope"))
            #expect(agentInfo.commands.last == .init(name: "guest-shutdown", enabled: true, successResponse: false))

            async let os = client.osInfo()
            try await agent.expectCommand("guest-get-osinfo")
            try await agent.reply(["return": ["id": "debian", "pretty-name": "Debian GNU/Linux 12", "kernel-release": "6.1.0", "machine": "x86_64"]])
            #expect(try await os == .init(id: "debian", prettyName: "Debian GNU/Linux 12", kernelRelease: "6.1.0", machine: "x86_64"))

            async let time = failure { () async throws(GuestAgent.Error) in try await client.time() }
            try await agent.expectCommand("guest-get-time")
            try await agent.reply(["return": "soon"])
            #expect(await time == .malformed(raw: #""soon""#))
        }
    }
}
