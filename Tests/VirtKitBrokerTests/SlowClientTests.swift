import Foundation
import Synchronization
import Testing
import VirtKitBroker

extension BrokerTests {
    /// A client that stops reading costs only itself: the guest, the others and the log
    /// carry on, and it learns exactly how much it missed.
    @Suite struct SlowClients {
        /// Writes `stream` in `step`-byte chunks, each once every client in `progress` has
        /// read all before it: the fast clients never lag by more than `step` (below their
        /// queue limit), whatever the machine's load, while the stalled one falls far behind.
        static func write(
            _ stream: [UInt8], to guest: GuestEnd, step: Int, pacedBy progress: [Counter]
        ) async throws {
            for start in stride(from: 0, to: stream.count, by: step) {
                try await guest.write(Array(stream[start..<min(stream.count, start + step)]))
                while progress.contains(where: { counter in counter.value < start }) {
                    try await Task.sleep(for: .milliseconds(1))
                }
            }
        }

        @Test func stalledClientDoesNotSlowTheOthersAndGetsAnExactGap() async throws {
            let directory = try makeTemporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let logPath = directory + "/testvm.log"
            let queueLimit = 256 << 10
            let fixture = try await BrokerFixture.start(
                queueLimit: queueLimit, log: .init(path: .init(logPath), maxSize: 0))
            let stalled = try await fixture.broker.attach(.readOnly)
            let fast = [try await fixture.broker.attach(.readWrite(force: false)), try await fixture.broker.attach(.shared)]
            let progress = [Counter(), Counter()]
            let readers = (0..<2).map { index in Task { await drain(fast[index], progress: progress[index]) } }

            let stream = numberedLines(atLeast: 20 << 20)
            try await Self.write(stream, to: fixture.guest, step: 128 << 10, pacedBy: progress)
            fixture.guest.close()
            await fixture.broker.waitUntilPeerCloses()

            for reader in readers {
                let transcript = await reader.value
                #expect(transcript.gaps.isEmpty)
                #expect(sameBytes(transcript.bytes[...], stream[...]))
            }
            // The stalled client resumes: one gap with the exact count, then the newest output.
            let transcript = await drain(stalled)
            #expect(transcript.gaps.count == 1)
            #expect(transcript.gaps.first?.at == 0)
            #expect(transcript.bytes.count <= queueLimit)
            #expect(transcript.skipped + transcript.bytes.count == stream.count)
            expectExact(transcript, of: stream)
            #expect(transcript.closed == CloseReason.peerClosed)

            await fixture.broker.stop()
            let log = contents(logPath)
            #expect(log.count == stream.count)
            #expect(sameBytes(log[...], stream[...]))
            #expect(await fixture.broker.statistics().bytesFromGuest == stream.count)
        }

        /// A client that stalls and resumes several times while the guest writes reads every
        /// byte or a gap counting it, in order.
        @Test func clientStallingRepeatedlyReadsEveryByteOrAGapForIt() async throws {
            let fixture = try await BrokerFixture.start(queueLimit: 64 << 10)
            let paced = try await fixture.broker.attach(.readOnly)
            let progress = [Counter()]
            let pacedReader = Task { await drain(paced, progress: progress[0]) }
            let sluggish = try await fixture.broker.attach(.readOnly)
            let seen = Counter()
            let sluggishReader = Task {
                var transcript = Transcript()
                var stalls = 0
                for await output in sluggish.output {
                    transcript.add(output)
                    // Stall for a while every ~200 KiB read, letting the queue overflow.
                    let read = transcript.bytes.count + transcript.skipped
                    seen.set(read)
                    if transcript.bytes.count / (200 << 10) > stalls {
                        stalls += 1
                        try? await Task.sleep(for: .milliseconds(50))
                    }
                }
                return transcript
            }
            let stream = numberedLines(atLeast: 4 << 20)
            try await Self.write(stream, to: fixture.guest, step: 32 << 10, pacedBy: progress)
            await fixture.finish()
            _ = await pacedReader.value
            let transcript = await sluggishReader.value
            expectExact(transcript, of: stream)
            #expect(transcript.closed == CloseReason.stopped || transcript.closed == CloseReason.peerClosed)
        }

        /// A log that cannot be written (here /dev/full: ENOSPC) does not stop the console:
        /// clients get everything, and the loss is counted.
        @Test func logWriteErrorsKeepTheConsoleServing() async throws {
            let fixture = try await BrokerFixture.start(log: .init(path: "/dev/full", maxSize: 0))
            let client = try await fixture.broker.attach(.readOnly)
            let stream = numberedLines(atLeast: 100_000)
            try await fixture.guest.write(stream)
            let transcript = await read(client) { $0.bytes.count >= stream.count }
            #expect(sameBytes(transcript.bytes[...], stream[...]))
            let statistics = await fixture.broker.statistics()
            #expect(statistics.logBytesLost == stream.count)
            #expect(statistics.logError != nil)
            await fixture.finish()
        }
    }
}
