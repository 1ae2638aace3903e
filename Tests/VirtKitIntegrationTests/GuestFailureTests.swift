import Foundation
import SystemPackage
import Testing
import VirtKitTestSupport
import VirtKitAPI
import VirtKitHost
@testable import VirtKitRuntime
#if canImport(Glibc)
import Glibc
#endif

/// Bad input and faults: each gets an error naming what is wrong, and nothing is left behind.
@Suite("Runtime: errors and faults", .tags(.qemu), .serialized)
struct GuestFailureTests {
    @Test("invalid XML, duplicate name, duplicate uuid, bad name: refused with libvirt's words")
    func defineRefusals() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let hypervisor = try await harness.hypervisor()
        let broken = await #expect(throws: RuntimeError.self) { try await hypervisor.define(xml: "<domain type='qemu'><name>x</name>") }
        #expect(broken?.code == .xmlError)
        let uuid = "6d7f1b2e-0000-4000-8000-000000000001"
        _ = try await hypervisor.define(xml: harness.domainXML(name: "one", uuid: uuid))
        let sameName = await #expect(throws: RuntimeError.self) {
            try await hypervisor.define(xml: harness.domainXML(name: "one", uuid: "6d7f1b2e-0000-4000-8000-000000000002"))
        }
        #expect(sameName?.message == "operation failed: domain 'one' already exists with uuid \(uuid)")
        let sameUUID = await #expect(throws: RuntimeError.self) {
            try await hypervisor.define(xml: harness.domainXML(name: "two", uuid: uuid))
        }
        #expect(sameUUID?.message == "operation failed: domain 'one' is already defined with uuid \(uuid)")
        let slash = await #expect(throws: RuntimeError.self) { try await hypervisor.define(xml: harness.domainXML(name: "a/b")) }
        #expect(slash?.message.contains("cannot contain '/'") == true)
        // Redefining the same domain replaces it; the saved file survives a new hypervisor.
        _ = try await hypervisor.define(xml: harness.domainXML(name: "one", uuid: uuid))
        let again = try await harness.hypervisor()
        #expect(await again.list(all: true).map(\.name) == ["one"])
        // A definition that cannot be removed is an error, and the domain stays defined.
        let file = harness.layout.definitionPath("one")
        let saved = try #require(AtomicFile.read(file))
        unlink(file.string)
        mkdir(file.string, 0o700)
        try AtomicFile.write(saved, to: file.appending("keep"))
        let stuck = await #expect(throws: RuntimeError.self) { try await again.undefine(name: "one") }
        #expect(stuck?.code == .systemError)
        #expect(stuck?.message.hasPrefix("cannot remove config \(file.string): ") == true, "\(String(describing: stuck))")
        #expect(await again.list(all: true).map(\.name) == ["one"])
        AtomicFile.removeTree(file)
        try AtomicFile.write(saved, to: file)
        let missing = await #expect(throws: RuntimeError.self) { try await again.start(name: "nope", paused: false) }
        #expect(missing?.code == .noDomain)
        #expect(missing?.message == "Domain not found: no domain with matching name 'nope'")
    }

    @Test("a generated socket path that cannot fit is refused at define, naming path and length")
    func generatedPathTooLong() async throws {
        let long = "/tmp/vkr-long-" + String(repeating: "r", count: 70)
        defer { AtomicFile.removeTree(FilePath(long)) }
        let harness = try GuestHarness(runDirectory: long)
        defer { harness.cleanUp() }
        let hypervisor = try await harness.hypervisor()
        let error = await #expect(throws: RuntimeError.self) {
            try await hypervisor.define(xml: harness.domainXML(name: "a-rather-long-domain-name"))
        }
        let message = error?.message ?? ""
        #expect(message.contains("generated UNIX socket path '\(long)/g/"), "\(message)")
        #expect(message.contains(" bytes"))
        #expect(await hypervisor.list(all: true).isEmpty)
    }

    @Test("missing emulator, QEMU dying at start, busy socket path: clear errors and nothing left")
    func startFailures() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let hypervisor = try await harness.hypervisor()

        _ = try await hypervisor.define(xml: harness.domainXML(name: "noemu", emulator: "/nonexistent/qemu-system-x86_64"))
        let noEmulator = await #expect(throws: RuntimeError.self) { try await hypervisor.start(name: "noemu", paused: false) }
        #expect(noEmulator?.message.contains("/nonexistent/qemu-system-x86_64") == true)

        let uuid = UUID().uuidString.lowercased()
        _ = try await hypervisor.define(xml: harness.domainXML(name: "dies", uuid: uuid, kernel: "/nonexistent/vmlinux"))
        let dies = await #expect(throws: RuntimeError.self) { try await hypervisor.start(name: "dies", paused: false) }
        // QEMU's own words from its stderr, after libvirt's.
        #expect(dies?.message.contains("process exited while connecting to monitor") == true, "\(dies?.message ?? "")")
        #expect(dies?.message.contains("/nonexistent/vmlinux") == true, "\(dies?.message ?? "")")
        #expect(try await hypervisor.state(name: "dies").state == .shutoff)
        #expect(GuestHarness.processes(mentioning: uuid).isEmpty)

        let busyPath = harness.root.appending("busy.sock")
        let squatter = try UnixSocket.listen(at: busyPath)
        defer { try? squatter.close() }
        _ = try await hypervisor.define(xml: harness.domainXML(name: "busy", echoPath: busyPath.string))
        let busy = await #expect(throws: RuntimeError.self) { try await hypervisor.start(name: "busy", paused: false) }
        #expect(busy?.message.contains(busyPath.string) == true, "\(busy?.message ?? "")")
        #expect(busy?.message.contains("in use") == true, "\(busy?.message ?? "")")
        #expect(harness.leftovers().isEmpty, "left: \(harness.leftovers())")
        // Nothing of the failed starts is left, and the squatter still owns its socket.
        #expect(access(harness.serialPath("busy"), F_OK) != 0)
        let client = try UnixSocket.connect(to: busyPath)
        try client.close()
    }

    @Test("a file source that is another user's symbolic link is not followed; a failed start truncates nothing")
    func fileSourcesAreOpenedSafely() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let hypervisor = try await harness.hypervisor()
        let precious = harness.root.appending("precious.txt")
        try AtomicFile.write("precious\n", to: precious)
        let stranger = try LocalUser.ensure("vktest-monitor")
        let planted = harness.root.appending("planted.log")
        #expect(symlink(precious.string, planted.string) == 0)
        #expect(lchown(planted.string, stranger.uid, stranger.uid) == 0)
        func fileSerial(_ path: FilePath) -> String { "<serial type='file'><source path='\(path.string)'/><target port='1'/></serial>" }

        _ = try await hypervisor.define(xml: harness.domainXML(name: "linked", extraDevices: fileSerial(planted)))
        let linked = await #expect(throws: RuntimeError.self) { try await hypervisor.start(name: "linked", paused: false) }
        #expect(linked?.message.contains("refusing to follow a symbolic link owned by uid \(stranger.uid)") == true,
                "\(linked?.message ?? "")")
        #expect(AtomicFile.read(precious) == Array("precious\n".utf8))
        #expect(harness.leftovers().isEmpty, "left: \(harness.leftovers())")

        // A link of this process's own user is followed, as protected_symlinks allows; a start
        // that fails before QEMU runs leaves the file as it was.
        let own = harness.root.appending("own.log")
        #expect(symlink(precious.string, own.string) == 0)
        let busyPath = harness.root.appending("busy.sock")
        let squatter = try UnixSocket.listen(at: busyPath)
        defer { try? squatter.close() }
        _ = try await hypervisor.define(xml: harness.domainXML(name: "busyfile", echoPath: busyPath.string,
                                                               extraDevices: fileSerial(own)))
        let busy = await #expect(throws: RuntimeError.self) { try await hypervisor.start(name: "busyfile", paused: false) }
        #expect(busy?.message.contains("in use") == true, "\(busy?.message ?? "")")
        #expect(AtomicFile.read(precious) == Array("precious\n".utf8), "a failed start truncated the file")
        #expect(harness.leftovers().isEmpty, "left: \(harness.leftovers())")
    }
}
