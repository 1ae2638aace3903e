import Foundation
import NIOCore
import NIOPosix
import Testing
import VirtKitTestSupport
import VirtKitQMP
@testable import VirtKitMonitor

extension RealQEMU {
    @Suite("TCP ports: MONPORT, CTLPORT = MONPORT + 100")
    struct PortTests {
        /// Another program's listener on `host`:`port` (no SO_REUSEADDR, like most servers).
        private func occupy(_ host: String, _ port: Int) async throws -> Channel {
            try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .bind(to: SocketAddress(ipAddress: host, port: port)).get()
        }

        private func tcpEndpoints(_ server: MonitorServer) -> Set<MonitorEndpoint> {
            Set(server.endpoints.filter { if case .tcp = $0.address { true } else { false } })
        }

        private func expectedEndpoints(monitorPort: Int) -> Set<MonitorEndpoint> {
            var endpoints: Set<MonitorEndpoint> = []
            for host in hostHasIPv6Loopback ? ["127.0.0.1", "::1"] : ["127.0.0.1"] {
                endpoints.insert(MonitorEndpoint(channel: .interactive, address: .tcp(host: host, port: monitorPort)))
                endpoints.insert(MonitorEndpoint(channel: .command, address: .tcp(host: host, port: monitorPort + 100)))
            }
            return endpoints
        }

        @Test func basePlusOrdinalAndBothPortsServe() async throws {
            let base = randomBasePort()
            try await MonitorFixture.with(tcp: .automatic(base: base, ordinal: 3)) { fixture in
                let server = fixture.server
                #expect(server.tcpPorts?.monitor == base + 3)
                #expect(server.tcpPorts?.command == base + 103)
                #expect(tcpEndpoints(server) == expectedEndpoints(monitorPort: base + 3))
                let interactive = try await MonitorTestClient.connect(to: .tcp(host: "127.0.0.1", port: base + 3))
                try await interactive.waitFor("(qemu) ")
                await interactive.close()
                let command = try await MonitorTestClient.connect(to: .tcp(host: "127.0.0.1", port: base + 103))
                try await command.send("info name\n")
                #expect(try await command.waitClosed() == QEMUInstance.guestName + "\r\n")
            }
        }

        /// A port held by someone else on one address only, the interactive or the command
        /// one: the whole pair moves up.
        @Test(arguments: [("127.0.0.1", 0), ("127.0.0.1", 100), ("::1", 0), ("::1", 100)])
        func takenPortSkipsThePair(host: String, offset: Int) async throws {
            guard host == "127.0.0.1" || hostHasIPv6Loopback else { return }
            let base = randomBasePort()
            let squatter = try await occupy(host, base + offset)
            try await MonitorFixture.with(tcp: .automatic(base: base, ordinal: 0)) { fixture in
                #expect(fixture.server.tcpPorts?.monitor == base + 1)
                #expect(fixture.server.tcpPorts?.command == base + 101)
                #expect(tcpEndpoints(fixture.server) == expectedEndpoints(monitorPort: base + 1))
            }
            try await squatter.close()
        }

        /// After stop() (with clients that were connected, so the server side's connections
        /// sit in TIME_WAIT), `.fixed` binds the same ports again.
        @Test func fixedRebindsTheSamePortsAfterStop() async throws {
            try await QEMUInstance.with { qemu in
                let qmp = try await qemu.connect()
                var configuration = MonitorServer.Configuration(
                    guestName: "rebind", unixDirectory: .init(qemu.directory),
                    tcp: .automatic(base: randomBasePort(), ordinal: 0))
                let first = try await MonitorServer.start(
                    configuration: configuration, qmp: qmp, policy: .allowAll, logger: testLogger)
                let ports = try #require(first.tcpPorts)
                let client = try await MonitorTestClient.connect(to: .tcp(host: "127.0.0.1", port: ports.monitor))
                try await client.waitFor("(qemu) ")
                await first.stop()
                try await client.waitClosed()

                configuration.tcp = .fixed(monitorPort: ports.monitor)
                let second = try await MonitorServer.start(
                    configuration: configuration, qmp: qmp, policy: .allowAll, logger: testLogger)
                #expect(second.tcpPorts?.monitor == ports.monitor)
                #expect(second.tcpPorts?.command == ports.command)
                #expect(second.tcpDisabledReason == nil)
                let command = try await MonitorTestClient.connect(to: .tcp(host: "127.0.0.1", port: ports.command))
                try await command.send("info name\n")
                #expect(try await command.waitClosed() == QEMUInstance.guestName + "\r\n")

                // A fixed port someone else holds: TCP is off, with the reason.
                let otherDirectory = qemu.directory + "/other"
                try FileManager.default.createDirectory(atPath: otherDirectory, withIntermediateDirectories: false)
                let third = try await MonitorServer.start(
                    configuration: MonitorServer.Configuration(
                        guestName: "clash", unixDirectory: .init(otherDirectory), tcp: .fixed(monitorPort: ports.monitor)),
                    qmp: qmp, policy: .allowAll, logger: testLogger)
                #expect(third.tcpPorts == nil)
                #expect(third.tcpDisabledReason?.contains("ports \(ports.monitor) and \(ports.command) cannot be bound") == true)
                await third.stop()
                await second.stop()
                await qmp.close()
            }
        }

        private func expectUNIXOnly(_ fixture: MonitorFixture, reason: String) async throws {
            #expect(fixture.server.tcpPorts == nil)
            #expect(fixture.server.tcpDisabledReason?.contains(reason) == true, "\(fixture.server.tcpDisabledReason ?? "")")
            #expect(fixture.server.endpoints.allSatisfy { if case .unix = $0.address { true } else { false } })
            #expect(fixture.server.endpoints.count == 2)
            let client = try await MonitorTestClient.connect(to: fixture.unix(.command))
            try await client.send("info status\n")
            #expect(try await client.waitClosed() == "VM status: paused (prelaunch)\r\n")
        }

        @Test func noFreePairLeavesUNIXOnly() async throws {
            let base = randomBasePort()
            var squatters: [Channel] = []
            for port in base..<(base + 3) { squatters.append(try await occupy("127.0.0.1", port)) }
            try await MonitorFixture.with(
                tcp: .automatic(base: base, ordinal: 0), configure: { $0.maxPortAttempts = 3 }
            ) { fixture in
                try await expectUNIXOnly(fixture, reason: "no free port pair from \(base) to \(base + 2)")
            }
            for squatter in squatters { try await squatter.close() }
        }

        @Test func pairPartnerOutOfRangeLeavesUNIXOnly() async throws {
            // 65430 + 5 = 65435 is the last MONPORT whose CTLPORT fits; 65436's would be 65536.
            try await MonitorFixture.with(tcp: .automatic(base: 65430, ordinal: 6)) { fixture in
                try await expectUNIXOnly(fixture, reason: "no free port pair from 65436")
            }
        }

        @Test func highestPairsAreUsedUpToTheEdge() async throws {
            var squatters: [Channel] = []
            for port in 65430...65435 {
                if let squatter = try? await occupy("127.0.0.1", port) { squatters.append(squatter) }
            }
            try await MonitorFixture.with(tcp: .automatic(base: 65430, ordinal: 0)) { fixture in
                try await expectUNIXOnly(fixture, reason: "no free port pair from 65430 to 65435")
            }
            for squatter in squatters { try await squatter.close() }
        }

        @Test func disabledPlan() async throws {
            try await MonitorFixture.with(tcp: .disabled) { fixture in
                try await expectUNIXOnly(fixture, reason: "TCP is disabled")
            }
        }
    }
}
