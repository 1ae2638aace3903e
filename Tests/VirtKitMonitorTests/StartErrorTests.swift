import Foundation
import SystemPackage
import Testing
import VirtKitTestSupport
import VirtKitQMP
@testable import VirtKitMonitor

@Suite("Configuration checks")
struct ConfigurationTests {
    @Test func socketPathMustFitSunPath() throws {
        let directory = "/tmp/" + String(repeating: "d", count: 80)
        let configuration = MonitorServer.Configuration(guestName: "g", unixDirectory: FilePath(directory))
        let path = configuration.interactiveSocketPath
        #expect(throws: MonitorError.socketPathTooLong(path: path, length: path.string.utf8.count)) {
            try configuration.validate()
        }
        let fits = MonitorServer.Configuration(guestName: "g", unixDirectory: "/tmp/vkm-abcdef")
        try fits.validate()
    }

    @Test func limitsMustBePositive() {
        var configuration = MonitorServer.Configuration(guestName: "g", unixDirectory: "/tmp/x")
        configuration.maxLineLength = 0
        #expect(throws: MonitorError.invalidConfiguration("maxLineLength 0 must be positive")) {
            try configuration.validate()
        }
    }
}

extension RealQEMU {
    @Suite("Start errors")
    struct StartErrorTests {
        @Test func missingDirectoryFailsToBindAndLeavesNothing() async throws {
            try await QEMUInstance.with { qemu in
                let qmp = try await qemu.connect()
                let directory = FilePath(qemu.directory + "/missing")
                let configuration = MonitorServer.Configuration(
                    guestName: "g", unixDirectory: directory, tcp: .fixed(monitorPort: randomBasePort()))
                await #expect(throws: MonitorError.bindFailed(path: configuration.interactiveSocketPath, errno: .noSuchFileOrDirectory)) {
                    _ = try await MonitorServer.start(configuration: configuration, qmp: qmp, policy: .allowAll, logger: testLogger)
                }
                // The command socket failing after the interactive one bound closes and removes that one.
                try FileManager.default.createDirectory(atPath: directory.string, withIntermediateDirectories: false)
                try FileManager.default.createDirectory(
                    atPath: configuration.commandSocketPath.string, withIntermediateDirectories: false)
                await #expect(throws: MonitorError.self) {
                    _ = try await MonitorServer.start(configuration: configuration, qmp: qmp, policy: .allowAll, logger: testLogger)
                }
                #expect(!FileManager.default.fileExists(atPath: configuration.interactiveSocketPath.string))
                #expect(SocketCensus.take(ports: [], paths: [configuration.interactiveSocketPath.string]).serverSide == 0)
                await qmp.close()
            }
        }

        @Test func socketsAreOwnerOnly() async throws {
            try await MonitorFixture.with { fixture in
                for channel in MonitorChannel.allCases {
                    let attributes = try FileManager.default.attributesOfItem(
                        atPath: fixture.configuration.socketPath(for: channel).string)
                    #expect((attributes[.posixPermissions] as? Int) == 0o600)
                }
            }
        }
    }
}
