import Foundation
import SystemPackage
import Synchronization
import Testing
import VirtKitBroker

extension BrokerTests {
    /// Clients served over a connected socket, as the daemon hands them over.
    @Suite struct Serve {
        /// A socket client of the broker: the test's end, and the task serving the other.
        struct SocketClient {
            let end: GuestEnd
            let session: Task<Void, Never>

            static func connect(_ broker: ChardevBroker, mode: ClientMode, label: String? = nil) throws -> SocketClient {
                let (mine, theirs) = try GuestEnd.socketPair()
                let session = Task { await broker.serve(connectedSocket: theirs, mode: mode, label: label) }
                return SocketClient(end: GuestEnd(descriptor: mine), session: session)
            }
        }

        @Test func bytesFlowBothWays() async throws {
            let fixture = try await BrokerFixture.start()
            try await fixture.guest.write(Array("early boot\r\n".utf8))
            let client = try SocketClient.connect(fixture.broker, mode: .readWrite(force: false))
            #expect(try await client.end.read(until: "early boot\r\n") == Array("early boot\r\n".utf8))
            try await fixture.guest.write(Array("login: ".utf8))
            #expect(try await client.end.read(until: "login: ") == Array("login: ".utf8))
            try await client.end.write(Array("root\r".utf8))
            #expect(try await fixture.guest.read(until: "root\r") == Array("root\r".utf8))

            // The guest hangs up: the client reads the notice, then EOF.
            fixture.guest.close()
            let tail = try await client.end.read { _ in false }
            #expect(String(decoding: tail, as: UTF8.self) == "\r\n[virtkit: the guest side of the console closed]\r\n")
            await client.session.value
            client.end.close()
            await fixture.broker.stop()
        }

        @Test func refusedClientReadsWhyAndIsClosed() async throws {
            let fixture = try await BrokerFixture.start()
            let first = try SocketClient.connect(fixture.broker, mode: .readWrite(force: false))
            try await first.end.write([0x41])
            _ = try await fixture.guest.read { $0.count >= 1 }  // the first client holds the pen
            let second = try SocketClient.connect(fixture.broker, mode: .readWrite(force: false))
            await second.session.value
            let refusal = try await second.end.read { _ in false }
            #expect(
                String(decoding: refusal, as: UTF8.self)
                    == "virtkit: the console of testvm is in use by another client; use --force or --shared\r\n")
            second.end.close()

            // Forcing: the first client is told in its stream, and its typing is refused once.
            let third = try SocketClient.connect(fixture.broker, mode: .readWrite(force: true), label: "admin on pts/3")
            let told = "\r\n[virtkit: the console was taken over by admin on pts/3; this session is now read-only]\r\n"
            #expect(String(decoding: try await first.end.read(until: told), as: UTF8.self) == told)
            try await first.end.write(Array("x".utf8))
            let refusedInput = try await first.end.read(until: "read-only]\r\n")
            #expect(String(decoding: refusedInput, as: UTF8.self).contains("was taken over by admin on pts/3"))
            try await third.end.write(Array("y".utf8))
            #expect(try await fixture.guest.read { $0.count >= 1 } == Array("y".utf8))

            await fixture.finish()
            for client in [first, third] {
                let rest = try await client.end.read { _ in false }
                #expect(String(decoding: rest, as: UTF8.self).hasSuffix("[virtkit: the guest side of the console closed]\r\n"))
                await client.session.value
                client.end.close()
            }
        }

        /// A socket client that stops reading gets a visible gap line with the exact count
        /// when it reads again; everything else it reads is the stream in order.
        @Test func stalledSocketClientReadsAGapLineWithTheExactCount() async throws {
            let fixture = try await BrokerFixture.start(queueLimit: 64 << 10)
            let stalled = try SocketClient.connect(fixture.broker, mode: .readOnly)
            let paced = try await fixture.broker.attach(.readOnly)
            let progress = [Counter()]
            let pacedReader = Task { await drain(paced, progress: progress[0]) }
            // Wait until the socket client is attached (it counts as a client).
            while await fixture.broker.statistics().clients < 2 { try await Task.sleep(for: .milliseconds(1)) }
            let stream = numberedLines(atLeast: 8 << 20)
            try await SlowClients.write(stream, to: fixture.guest, step: 32 << 10, pacedBy: progress)
            fixture.guest.close()
            await fixture.broker.waitUntilPeerCloses()
            _ = await pacedReader.value

            let received = try await stalled.end.read { _ in false }
            await stalled.session.value
            stalled.end.close()
            await fixture.broker.stop()

            // Turn the gap lines back into gaps and check the rest against the stream.
            let closing = Array("\r\n[virtkit: the guest side of the console closed]\r\n".utf8)
            #expect(received.suffix(closing.count).elementsEqual(closing))
            var transcript = Transcript()
            var offset = 0
            let body = Array(received.dropLast(closing.count))
            let prefix = Array("\r\n[virtkit: ".utf8)
            let suffix = Array(" bytes skipped]\r\n".utf8)
            while let start = body.firstRange(of: prefix, from: offset) {
                transcript.add(.bytes(Array(body[offset..<start.lowerBound])))
                let end = try #require(body.firstRange(of: suffix, from: start.upperBound))
                let count = try #require(Int(String(decoding: body[start.upperBound..<end.lowerBound], as: UTF8.self)))
                transcript.add(.gap(skipped: count))
                offset = end.upperBound
            }
            transcript.add(.bytes(Array(body[offset...])))
            #expect(!transcript.gaps.isEmpty)
            expectExact(transcript, of: stream)
        }

        /// A read-only socket client that shuts its sending side keeps receiving.
        @Test func observerThatShutsItsSendingSideKeepsReceiving() async throws {
            let fixture = try await BrokerFixture.start()
            let observer = try SocketClient.connect(fixture.broker, mode: .readOnly)
            while await fixture.broker.statistics().clients < 1 { try await Task.sleep(for: .milliseconds(1)) }
            #expect(shutdown(observer.end.descriptor.rawValue, Int32(SHUT_WR)) == 0)
            try await fixture.guest.write(Array("still watching\n".utf8))
            #expect(try await observer.end.read(until: "still watching\n") == Array("still watching\n".utf8))
            await fixture.finish()
            await observer.session.value
            observer.end.close()
        }

        /// A writer that disconnects frees the pen.
        @Test func writerThatDisconnectsFreesThePen() async throws {
            let fixture = try await BrokerFixture.start()
            let writer = try SocketClient.connect(fixture.broker, mode: .readWrite(force: false))
            while await fixture.broker.statistics().clients < 1 { try await Task.sleep(for: .milliseconds(1)) }
            writer.end.close()
            await writer.session.value
            #expect(await fixture.broker.statistics().clients == 0)
            _ = try await fixture.broker.attach(.readWrite(force: false))
            await fixture.finish()
        }

        /// Any transport: an input sequence and an output closure.
        @Test func servesAnyByteTransport() async throws {
            let fixture = try await BrokerFixture.start()
            try await fixture.guest.write(Array("boot\n".utf8))
            let (input, typing) = AsyncStream.makeStream(of: [UInt8].self)
            let received = Counter()
            let sent = Mutex<[UInt8]>([])
            let session = Task {
                try await fixture.broker.serve(input: input, mode: .readWrite(force: false), label: "websocket") { bytes in
                    sent.withLock { $0 += bytes }
                    received.add(bytes.count)
                }
            }
            while received.value < 5 { try await Task.sleep(for: .milliseconds(1)) }
            typing.yield(Array("uptime\r".utf8))
            #expect(try await fixture.guest.read(until: "uptime\r") == Array("uptime\r".utf8))
            // A second writer on any transport is refused before anything is sent.
            let error = await #expect(throws: BrokerError.self) {
                try await fixture.broker.serve(input: AsyncStream<[UInt8]> { $0.finish() }, mode: .readWrite(force: false)) { _ in }
            }
            #expect(error == .consoleInUse(console: "testvm"))
            // The writer's input ending ends its session and frees the pen.
            typing.finish()
            try await session.value
            #expect(sent.withLock { $0 } == Array("boot\n".utf8))
            _ = try await fixture.broker.attach(.readWrite(force: false))
            await fixture.finish()
        }
    }
}
