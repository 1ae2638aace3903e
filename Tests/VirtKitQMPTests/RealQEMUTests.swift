import Foundation
import Testing
import VirtKitTestSupport
@testable import VirtKitQMP

/// Against a real qemu-system-x86_64 (7.2), started paused with `-S` and no kernel.
@Suite("QMP against real QEMU", .tags(.qemu), .serialized, .timeLimit(.minutes(2)))
struct RealQEMUTests {
    @Test func greetingStatusHumanChardevAndVersion() async throws {
        try await QEMUInstance.with { qemu in
            let client = try await qemu.connect()
            #expect(client.greeting.version.major == 7)
            #expect(client.greeting.capabilities.contains("oob"))
            #expect(client.isConnected)

            let status = try await client.queryStatus()
            #expect(status.running == false)
            #expect(status.status == "prelaunch" || status.status == "paused")

            let text = try await client.human("info status")
            #expect(text.contains("VM status"))

            let chardevs = try await client.queryChardev()
            let monitor = try #require(chardevs.first { $0.filename.contains(qemu.socketPath) })
            #expect(monitor.label == "compat_monitor0")
            #expect(monitor.frontendOpen)

            #expect(try await client.queryVersion() == client.greeting.version)
            #expect(try await client.queryName() == QEMUInstance.guestName)

            await #expect(throws: QMP.Error.commandFailed(class: "CommandNotFound", description: "The command no-such-command has not been found")) {
                try await client.execute("no-such-command")
            }
            let raw = try await client.executeRaw(["execute": "query-status", "id": "passthrough"])
            #expect(raw["id"] == "passthrough")
            #expect(raw["return"]?["running"] == false)
            let rawError = try await client.executeRaw(["execute": "query-status", "arguments": ["bogus": 1]])
            #expect(rawError["error"]?["class"] == "GenericError")
            #expect(rawError["id"] == nil)
            await client.close()
        }
    }

    @Test func contAndStopProduceResumeAndStopEvents() async throws {
        try await QEMUInstance.with { qemu in
            let client = try await qemu.connect()
            let events = client.events()
            try await client.cont()
            #expect(try await client.queryStatus().running)
            try await client.stop()
            #expect(try await client.queryStatus().status == "paused")
            try await client.cont()
            var iterator = events.makeAsyncIterator()
            var kinds: [QMP.Event.Kind] = []
            while kinds.count < 3, let event = await iterator.next() {
                if event.kind == .resume || event.kind == .stop { kinds.append(event.kind) }
            }
            #expect(kinds == [.resume, .stop, .resume])
            await client.close()
        }
    }

    @Test func manyConcurrentCommandsOnRealQEMU() async throws {
        try await QEMUInstance.with { qemu in
            let client = try await qemu.connect()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<50 {
                    group.addTask { () async throws -> Void in
                        if index.isMultiple(of: 2) {
                            let status = try await client.queryStatus()
                            #expect(!status.running)
                        } else {
                            let text = try await client.human("info status")
                            #expect(text.contains("VM status"))
                        }
                    }
                }
                try await group.waitForAll()
            }
            await client.close()
        }
    }

    @Test func quitClosesTheConnectionAndQEMUExits() async throws {
        try await QEMUInstance.with { qemu in
            let client = try await qemu.connect()
            let events = client.events()
            try await client.quit()
            await client.waitClosed()
            #expect(!client.isConnected)
            var names: [String] = []
            for await event in events { names.append(event.name) }
            #expect(names.contains("SHUTDOWN"))
            #expect(try await qemu.waitForExit() == 0)
            await #expect(throws: QMP.Error.disconnected) { try await client.execute("query-status") }
        }
    }

    @Test func killedQEMUClosesTheClient() async throws {
        try await QEMUInstance.with { qemu in
            let client = try await qemu.connect()
            try await client.cont()
            kill(qemu.process.processIdentifier, SIGKILL)
            await client.waitClosed()
            await #expect(throws: QMP.Error.disconnected) { try await client.queryStatus() }
        }
    }
}
