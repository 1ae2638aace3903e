import Foundation
import Testing
import VirtKitHost
import VirtKitTestSupport
@testable import VirtKitMonitor

extension RealQEMU {
    /// The TCP channels serve the guest's owner only: a second local user connecting over
    /// loopback gets one line saying why and is closed, on both channels and both addresses;
    /// a member of the socket group is served.
    @Suite("TCP monitor: owner check")
    struct OwnerCheckTests {
        private static let stranger = "vktest-monitor"
        private static let member = "vktest-monmember"
        private static let group = "vktest-mongroup"

        private func hosts() -> [String] { hostHasIPv6Loopback ? ["127.0.0.1", "::1"] : ["127.0.0.1"] }

        @Test func anotherUserIsRefusedOnEveryChannelAndAddress() async throws {
            let user = try LocalUser.ensure(Self.stranger)
            let base = randomBasePort()
            try await MonitorFixture.with(tcp: .automatic(base: base, ordinal: 0)) { fixture in
                let ports = try #require(fixture.server.tcpPorts)
                for host in hosts() {
                    for port in [ports.monitor, ports.command] {
                        let text = try await OffPool.run { try user.tcpExchange(host: host, port: port, send: "info name\n") }
                        #expect(text == "error: access denied: uid \(user.uid) may not use the monitor of guest '\(QEMUInstance.guestName)'\r\n",
                                "\(host):\(port)")
                    }
                }
                // The owner (this process's user) is still served, and nothing the refused
                // clients sent reached QEMU's state.
                let command = try await MonitorTestClient.connect(to: .tcp(host: "127.0.0.1", port: ports.command))
                try await command.send("info name\n")
                #expect(try await command.waitClosed() == QEMUInstance.guestName + "\r\n")
                #expect(fixture.server.clientCounts.values.reduce(0, +) == 0)
            }
        }

        @Test func aMemberOfTheSocketGroupIsServed() async throws {
            let user = try LocalUser.ensure(Self.member, groups: [Self.group])
            let gid = try LocalUser.gid(ofGroup: Self.group)
            let base = randomBasePort()
            try await MonitorFixture.with(tcp: .automatic(base: base, ordinal: 0), configure: {
                $0.tcpAccess = PeerAccess(group: gid)
            }) { fixture in
                let ports = try #require(fixture.server.tcpPorts)
                let text = try await OffPool.run { try user.tcpExchange(host: "127.0.0.1", port: ports.command, send: "info name\n") }
                #expect(text == QEMUInstance.guestName + "\r\n")
            }
        }

        @Test func theOwnerIsFoundThroughTheKernel() async throws {
            let stranger = try LocalUser.ensure(Self.stranger)
            #expect(PeerAccess().permits(uid: geteuid()))
            #expect(PeerAccess().permits(uid: 0))
            #expect(!PeerAccess(ownerUID: 4_000_000).permits(uid: stranger.uid))
            let member = try LocalUser.ensure(Self.member, groups: [Self.group])
            let gid = try LocalUser.gid(ofGroup: Self.group)
            #expect(PeerAccess.groups(of: member.uid).contains(gid))
            #expect(PeerAccess(ownerUID: 4_000_000, group: gid).permits(uid: member.uid))
            #expect(!PeerAccess(ownerUID: 4_000_000, group: gid).permits(uid: stranger.uid))
        }
    }
}
