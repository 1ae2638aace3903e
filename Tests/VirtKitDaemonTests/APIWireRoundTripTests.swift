import Foundation
import Testing
import VirtKitAPI
import VirtKitOpenAPI

/// The daemon answers with the types generated from docs/openapi.yaml; the CLI's client reads
/// them back as VirtKitModel's types. Every model value must survive that trip unchanged, so the
/// client and the document cannot drift apart either.
@Suite("The model through the generated wire types and back")
struct APIWireRoundTripTests {
    static func roundTrip<Wire: Encodable, Model: Decodable & Equatable>(_ model: Model, as wire: Wire,
                                                                         sourceLocation: SourceLocation = #_sourceLocation) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(wire)
        #expect(try JSONDecoder().decode(Model.self, from: data) == model, "\(String(decoding: data, as: UTF8.self))",
                sourceLocation: sourceLocation)
    }

    static let reasons: [DomainStateReason] = [.unknown, .booted, .userRequested, .shutdown, .destroyed, .crashed,
                                               .failed, .fromSnapshot, .daemonRestart]

    @Test func everyStateAndReason() throws {
        for state in DomainState.allCases {
            for reason in Self.reasons {
                for id in [nil, 7] as [Int?] {
                    let summary = DomainSummary(id: id, name: "vm é", uuid: "8f2a7c1e-5b3d-4e6f-9a0b-1c2d3e4f5a6b", state: state, reason: reason)
                    try Self.roundTrip(summary, as: Components.Schemas.DomainSummary(summary))
                }
            }
        }
    }

    @Test func infoWithAndWithoutItsRunningFields() throws {
        let summary = DomainSummary(id: 3, name: "demo", uuid: "u", state: .running, reason: .booted)
        let running = DomainInfo(summary: summary, osType: "hvm", maxMemoryKiB: 1 << 40, usedMemoryKiB: 524_288, vcpus: 4,
                                 cpuTimeSeconds: 1.25, persistent: false, autostart: false, pid: 4242, accelerator: "tcg",
                                 channels: [ChannelConnection(name: "org.qemu.guest_agent.0", connected: true)])
        try Self.roundTrip(running, as: Components.Schemas.DomainInfo(running))
        let off = DomainInfo(summary: summary, osType: "hvm", maxMemoryKiB: 65536, usedMemoryKiB: 65536, vcpus: 1,
                             cpuTimeSeconds: nil, persistent: true, autostart: false, pid: nil, accelerator: nil, channels: [])
        try Self.roundTrip(off, as: Components.Schemas.DomainInfo(off))
    }

    @Test func monitorInfoWithTCPOnAndOff() throws {
        let on = MonitorInfo(interactiveSocket: "/run/i.sock", commandSocket: "/run/c.sock", monitorPort: 30320,
                             commandPort: 30420, tcpAddresses: ["127.0.0.1", "::1"], tcpDisabledReason: nil)
        try Self.roundTrip(on, as: Components.Schemas.MonitorInfo(on))
        let off = MonitorInfo(interactiveSocket: "/run/i.sock", commandSocket: "/run/c.sock", monitorPort: nil,
                              commandPort: nil, tcpAddresses: [], tcpDisabledReason: "TCP is disabled for this guest")
        try Self.roundTrip(off, as: Components.Schemas.MonitorInfo(off))
    }

    @Test(arguments: ["serial", "parallel", "console", "channel", "guestfwd"])
    func chardevOfEveryRole(role: String) throws {
        let sockets = Dictionary(uniqueKeysWithValues: ConsoleMode.allCases.map { ($0.rawValue, "/run/console/x" + $0.socketSuffix) })
        let info = ChardevInfo(alias: "serial0", role: role, names: ["serial0", "console0"], targetName: role == "channel" ? "org.x" : nil,
                               isDefaultConsole: role == "serial", pty: "/dev/pts/5", path: nil, log: "/var/log/x.log",
                               sockets: sockets, clients: 2, bytesFromGuest: 1 << 33, bytesToGuest: 12, logBytesLost: 0)
        try Self.roundTrip(info, as: try Components.Schemas.ChardevInfo(info))
    }

    @Test func aRoleTheDocumentDoesNotKnowIsRefused() {
        let info = ChardevInfo(alias: "x", role: "keyboard", names: [], targetName: nil, isDefaultConsole: false, pty: nil, path: nil,
                               log: nil, sockets: [:], clients: 0, bytesFromGuest: 0, bytesToGuest: 0, logBytesLost: 0)
        #expect(throws: UnrepresentableValue.self) { try Components.Schemas.ChardevInfo(info) }
    }

    @Test func shutdownRequestDefaultsAreTheModels() {
        #expect(ShutdownOptions(Components.Schemas.ShutdownRequest()) == ShutdownOptions())
        let full = Components.Schemas.ShutdownRequest(mode: .agent, timeoutSeconds: 5, wait: true)
        #expect(ShutdownOptions(full) == ShutdownOptions(mode: .agent, timeoutSeconds: 5, wait: true))
    }
}
