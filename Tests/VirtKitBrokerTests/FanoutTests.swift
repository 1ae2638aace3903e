import Synchronization
import Testing
import VirtKitBroker

extension BrokerTests {
    /// Output fanned out to several clients, the scrollback replay and how it joins live data.
    @Suite struct Fanout {
        @Test func threeClientsSeeTheSameOutput() async throws {
            let fixture = try await BrokerFixture.start()
            let clients = [
                try await fixture.broker.attach(.readWrite(force: false)),
                try await fixture.broker.attach(.shared),
                try await fixture.broker.attach(.readOnly),
            ]
            let readers = clients.map { client in Task { await drain(client) } }
            let stream = numberedLines(atLeast: 300_000)
            for chunk in stride(from: 0, to: stream.count, by: 7_777) {
                try await fixture.guest.write(Array(stream[chunk..<min(stream.count, chunk + 7_777)]))
            }
            await fixture.finish()
            for reader in readers {
                let transcript = await reader.value
                #expect(transcript.gaps.isEmpty)
                #expect(sameBytes(transcript.bytes[...], stream[...]))
                #expect(transcript.closed == CloseReason.peerClosed)
            }
        }

        /// A client attaching while the guest writes reads the scrollback, then live output,
        /// with no byte lost or repeated at the join.
        @Test func lateClientGetsScrollbackThenLiveWithoutGapOrDuplicate() async throws {
            let fixture = try await BrokerFixture.start()
            let early = try await fixture.broker.attach(.readOnly)
            let seen = Counter()
            let earlyReader = Task { await drain(early, progress: seen) }
            let stream = numberedLines(atLeast: 600_000)
            let writer = Task {
                for chunk in stride(from: 0, to: stream.count, by: 1_000) {
                    try await fixture.guest.write(Array(stream[chunk..<min(stream.count, chunk + 1_000)]))
                }
            }
            // Attach mid-stream: once the early client has seen a third of it.
            while seen.value < stream.count / 3 { try await Task.sleep(for: .milliseconds(1)) }
            let late = try await fixture.broker.attach(.readOnly)
            let lateReader = Task { await drain(late) }
            try await writer.value
            await fixture.finish()

            let earlyTranscript = await earlyReader.value
            let lateTranscript = await lateReader.value
            #expect(sameBytes(earlyTranscript.bytes[...], stream[...]))
            // The scrollback (1 MiB) holds all that came before, so the late client has it all.
            #expect(lateTranscript.gaps.isEmpty)
            #expect(sameBytes(lateTranscript.bytes[...], stream[...]))
        }

        /// With a scrollback smaller than what came before, the late client reads an exact
        /// suffix of the stream: the last scrollback bytes before it attached, then the rest.
        @Test func lateClientWithSmallScrollbackReadsAnExactSuffix() async throws {
            let scrollback = 4_096
            let fixture = try await BrokerFixture.start(scrollback: scrollback)
            let early = try await fixture.broker.attach(.readOnly)
            let seen = Counter()
            let earlyReader = Task { await drain(early, progress: seen) }
            let stream = numberedLines(atLeast: 400_000)
            let writer = Task {
                for chunk in stride(from: 0, to: stream.count, by: 1_000) {
                    try await fixture.guest.write(Array(stream[chunk..<min(stream.count, chunk + 1_000)]))
                }
            }
            while seen.value < stream.count / 2 { try await Task.sleep(for: .milliseconds(1)) }
            let late = try await fixture.broker.attach(.readOnly)
            let lateReader = Task { await drain(late) }
            try await writer.value
            await fixture.finish()

            _ = await earlyReader.value
            let transcript = await lateReader.value
            #expect(transcript.gaps.isEmpty)
            #expect(transcript.bytes.count >= scrollback)
            #expect(transcript.bytes.count <= stream.count - stream.count / 2 + scrollback)
            #expect(sameBytes(transcript.bytes[...], stream[(stream.count - transcript.bytes.count)...]))
        }

        @Test func scrollbackKeepsOnlyTheNewestBytes() async throws {
            let fixture = try await BrokerFixture.start(scrollback: 4_096)
            let watcher = try await fixture.broker.attach(.readOnly)
            let stream = numberedLines(atLeast: 10_000)
            for chunk in stride(from: 0, to: stream.count, by: 333) {
                try await fixture.guest.write(Array(stream[chunk..<min(stream.count, chunk + 333)]))
            }
            // Once the watcher has it all, the broker has handled it all.
            _ = await read(watcher) { $0.bytes.count >= stream.count }
            let late = try await fixture.broker.attach(.readOnly)
            let replay = await read(late) { $0.bytes.count >= 4_096 }
            #expect(sameBytes(replay.bytes[...], stream.suffix(4_096)))
            #expect(await fixture.broker.statistics().scrollbackBytes == 4_096)
            await fixture.finish()
            let rest = await drain(late)
            #expect(rest.bytes.isEmpty)
            #expect(rest.closed == CloseReason.peerClosed)
        }

        @Test func scrollbackOfZeroReplaysNothing() async throws {
            let fixture = try await BrokerFixture.start(scrollback: 0)
            let watcher = try await fixture.broker.attach(.readOnly)
            try await fixture.guest.write(Array("before\n".utf8))
            _ = await read(watcher) { $0.bytes.count >= 7 }
            let late = try await fixture.broker.attach(.readOnly)
            try await fixture.guest.write(Array("after\n".utf8))
            await fixture.finish()
            let transcript = await drain(late)
            #expect(transcript.bytes == Array("after\n".utf8))
        }

        /// After the guest side closes, a client still attaches and reads the scrollback, then
        /// the close; writing is refused.
        @Test func clientAttachingAfterThePeerClosedReadsTheScrollback() async throws {
            let fixture = try await BrokerFixture.start()
            try await fixture.guest.write(Array("kernel panic\n".utf8))
            fixture.guest.close()
            await fixture.broker.waitUntilPeerCloses()
            let client = try await fixture.broker.attach(.readWrite(force: false))
            await #expect(throws: BrokerError.peerClosed(console: "testvm")) { try await client.write([65]) }
            let transcript = await drain(client)
            #expect(transcript.bytes == Array("kernel panic\n".utf8))
            #expect(transcript.closed == CloseReason.peerClosed)
            #expect(await fixture.broker.statistics().peerOpen == false)
            await fixture.broker.stop()
        }

        @Test func stopClosesClientsAndRefusesNewOnes() async throws {
            let fixture = try await BrokerFixture.start()
            let client = try await fixture.broker.attach(.readOnly)
            try await fixture.guest.write(Array("hello".utf8))
            _ = await read(client) { $0.bytes.count >= 5 }
            await fixture.broker.stop()
            let rest = await drain(client)
            #expect(rest.closed == CloseReason.stopped)
            await #expect(throws: BrokerError.stopped(console: "testvm")) {
                _ = try await fixture.broker.attach(.readOnly)
            }
            // QEMU's side sees the broker hang up.
            let tail = try await fixture.guest.read { _ in false }
            #expect(tail.isEmpty)
            fixture.guest.close()
            await fixture.broker.stop()
        }

        @Test func detachEndsTheStreamAndCancellationDetaches() async throws {
            let fixture = try await BrokerFixture.start()
            let first = try await fixture.broker.attach(.readOnly)
            let second = try await fixture.broker.attach(.readOnly)
            #expect(await fixture.broker.statistics().clients == 2)
            let waiting = Task { await drain(first) }
            await first.detach()
            let transcript = await waiting.value
            #expect(transcript.closed == nil)
            let cancelled = Task { await drain(second) }
            cancelled.cancel()
            _ = await cancelled.value
            #expect(await fixture.broker.statistics().clients == 0)
            await fixture.finish()
        }

        @Test func clientLimitIsEnforced() async throws {
            let fixture = try await BrokerFixture.start(maxClients: 2)
            let clients = [try await fixture.broker.attach(.readOnly), try await fixture.broker.attach(.readOnly)]
            await #expect(throws: BrokerError.tooManyClients(console: "testvm", limit: 2)) {
                _ = try await fixture.broker.attach(.readOnly)
            }
            await clients[0].detach()
            _ = try await fixture.broker.attach(.readOnly)
            await fixture.finish()
        }
    }
}
