import Foundation
import Testing
import VirtKitBroker

extension BrokerTests {
    /// Brokers and their clients leave no descriptor behind.
    @Suite struct DescriptorLeaks {
        /// The open descriptors: number and what each refers to.
        static func openDescriptors() throws -> [String: String] {
            var table: [String: String] = [:]
            for name in try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
                table[name] = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + name)) ?? "?"
            }
            return table
        }

        /// One broker's life: attached and socket clients coming and going, a log, a stop.
        static func exercise(directory: String, round: Int) async throws {
            let fixture = try await BrokerFixture.start(
                log: .init(path: .init(directory + "/vm\(round).log"), maxSize: 4_096, maxBackups: 2))
            var attached: [BrokerClient] = []
            for index in 0..<40 {
                attached.append(try await fixture.broker.attach(index == 0 ? .readWrite(force: false) : .readOnly))
            }
            var sockets: [Serve.SocketClient] = []
            for _ in 0..<10 {
                sockets.append(try Serve.SocketClient.connect(fixture.broker, mode: .shared))
            }
            // Task.sleep would let libdispatch open a timerfd of its own at some point: yield.
            while await fixture.broker.statistics().clients < 50 { await Task.yield() }
            try await fixture.guest.write(numberedLines(atLeast: 20_000))
            for client in attached.prefix(20) { await client.detach() }
            for socket in sockets.prefix(5) {
                socket.end.close()
                await socket.session.value
            }
            await fixture.finish()
            for socket in sockets.dropFirst(5) {
                _ = try await socket.end.read { _ in false }
                await socket.session.value
                socket.end.close()
            }
            for client in attached.dropFirst(20) { await client.detach() }
            // A refused socket client is closed too.
            let extra = try Serve.SocketClient.connect(fixture.broker, mode: .readOnly)
            await extra.session.value
            extra.end.close()
        }

        @Test func noDescriptorOutlivesItsBroker() async throws {
            let directory = try makeTemporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            // Every socket handed to a broker is recorded by inode: after the brokers stopped, none
            // may still be open in this process, nor any log file. (A count of all descriptors
            // would also see what other suites, running at the same time, open and close.)
            GuestEnd.brokerSideInodes.withLock { $0.removeAll() }
            for round in 0...3 { try await Self.exercise(directory: directory, round: round) }
            let handed = Set(GuestEnd.brokerSideInodes.withLock { $0 }.map { "socket:[\($0)]" })
            #expect(handed.count >= 4 * 12, "every broker and served socket was recorded: \(handed.count)")
            let open = try Self.openDescriptors()
            let leaked = open.filter { handed.contains($0.value) || $0.value.hasPrefix(directory) }
            #expect(leaked.isEmpty, "still open: \(leaked)")
        }
    }
}
