import Foundation
import SystemPackage
import Testing
import VirtKitModel
import VirtKitRuntime
import VirtKitTestSupport

/// VirtKit's capabilities and domain capabilities, from its own probe of this host's QEMU,
/// against libvirt 9.0's answers on the same host (the embedded driver, through
/// Scripts/libvirt-oracle.py --capabilities).
@Suite("capabilities from VirtKit's own QEMU probe", .tags(.qemu), .serialized)
struct CapabilitiesTests {
    /// libvirt's answers, file name -> text.
    static let oracle = Task { try await OffPool.run { runOracle() } }

    static func runOracle() -> [String: String] {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("virtkit-caps-oracle-\(getpid())")
        defer { try? FileManager.default.removeItem(at: out) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [TestFiles.packageRoot.appendingPathComponent("Scripts/libvirt-oracle.py").path, "--capabilities", out.path]
        guard (try? process.run()) != nil else { return [:] }
        process.waitUntilExit()
        var answers: [String: String] = [:]
        for file in (try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? [] {
            answers[file] = try? String(contentsOf: out.appendingPathComponent(file), encoding: .utf8)
        }
        return answers
    }

    static func libvirt(_ file: String) async throws -> String {
        let answers = try await oracle.value
        return try #require(answers[file], "libvirt gave no \(file) (answers: \(answers.keys.sorted()))")
    }

    /// The `<machine ...>name</machine>` lines, attributes and all, in order.
    static func machines(_ xml: String) -> [String] {
        xml.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.hasPrefix("<machine") && $0.hasSuffix("</machine>") }
    }

    static func element(_ name: String, _ xml: String) -> String? {
        guard let start = xml.range(of: "<\(name)"), let end = xml[start.upperBound...].range(of: ">") else { return nil }
        let open = String(xml[start.lowerBound..<end.upperBound])
        guard !open.hasSuffix("/>"), let close = xml[end.upperBound...].range(of: "</\(name)>") else { return open }
        return String(xml[end.upperBound..<close.lowerBound])
    }

    @Test("The guest's machine types, aliases, limits and deprecations are libvirt's, default first")
    func machineTypesMatchLibvirt() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let hypervisor = try await harness.hypervisor()
        let ours = try await hypervisor.capabilitiesXML()
        let theirs = try await Self.libvirt("capabilities.xml")
        // libvirt lists i686 (qemu-system-i386) as well; VirtKit runs the x86_64 emulator only.
        let theirsX86 = String(theirs[try #require(theirs.range(of: "<arch name='x86_64'>")).lowerBound...])
        let ourMachines = Self.machines(ours), theirMachines = Self.machines(theirsX86)
        #expect(ourMachines.count > 40)
        #expect(Set(ourMachines) == Set(theirMachines), "only ours: \(Set(ourMachines).subtracting(theirMachines)); only libvirt's: \(Set(theirMachines).subtracting(ourMachines))")
        #expect(ourMachines.prefix(2) == theirMachines.prefix(2))
        #expect(Self.element("emulator", ours) == Self.element("emulator", theirsX86))
        #expect(Self.element("os_type", ours) == "hvm")
        #expect(ours.contains("<domain type='qemu'/>"))
        // libvirt's uuid is the firmware's, else random per process; VirtKit's is stable: the
        // firmware's, else systemd's machine id.
        let uuid = try #require(Self.element("uuid", ours))
        let again = try await hypervisor.capabilitiesXML()
        #expect(UUID(uuidString: uuid) != nil && uuid == Self.element("uuid", again))
    }

    @Test("Domain capabilities name the machine, domain type and vCPU limit as libvirt does", arguments: ["q35", "pc"])
    func domainCapabilitiesMatchLibvirt(_ machine: String) async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let hypervisor = try await harness.hypervisor()
        let ours = try await hypervisor.domainCapabilitiesXML(emulator: nil, arch: nil, machine: machine, virtType: "qemu")
        let theirs = try await Self.libvirt("domcapabilities.\(machine).qemu.xml")
        for name in ["path", "domain", "machine", "arch", "vcpu"] {
            #expect(Self.element(name, ours) == Self.element(name, theirs), "<\(name)>")
        }
        // Every CPU model libvirt calls usable under TCG, VirtKit offers as usable too.
        let usable = { (xml: String) in Set(xml.split(separator: "\n").filter { $0.contains("<model usable='yes'") }
            .compactMap { $0.split(separator: ">").dropFirst().first?.split(separator: "<").first.map(String.init) }) }
        #expect(!usable(theirs).isEmpty && usable(theirs).isSubset(of: usable(ours)), "\(usable(theirs).subtracting(usable(ours)))")
    }

    @Test("A machine or architecture QEMU does not have is refused in libvirt's words")
    func refusalsMatchLibvirt() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let hypervisor = try await harness.hypervisor()
        let machine = await #expect(throws: RuntimeError.self) {
            try await hypervisor.domainCapabilitiesXML(emulator: nil, arch: nil, machine: "foo", virtType: nil)
        }
        let badMachine = try await Self.libvirt("domcapabilities.bad-machine.err")
        #expect(machine?.message == badMachine.trimmingCharacters(in: .newlines))
        #expect(machine?.code == .invalidArgument)
        let arch = await #expect(throws: RuntimeError.self) {
            try await hypervisor.domainCapabilitiesXML(emulator: nil, arch: "aarch64", machine: nil, virtType: nil)
        }
        let badArch = try await Self.libvirt("domcapabilities.bad-arch.err")
        #expect(arch?.message == badArch.trimmingCharacters(in: .newlines))
        let missing = await #expect(throws: RuntimeError.self) {
            try await hypervisor.domainCapabilitiesXML(emulator: "/nonexistent/qemu", arch: nil, machine: nil, virtType: nil)
        }
        #expect(missing?.message == "Cannot check QEMU binary /nonexistent/qemu: No such file or directory")
    }

    @Test("The probe is kept per binary and asked again when the binary changes")
    func probeIsCachedPerBinary() async throws {
        let directory = FilePath(FileManager.default.temporaryDirectory.path).appending("virtkit-qemu-caps-\(getpid())")
        try FileManager.default.createDirectory(atPath: directory.string, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory.string) }
        let cache = directory.appending("qemu-capabilities.json")
        let emulator = "/usr/bin/qemu-system-x86_64"
        let first = try await QEMUCapabilitiesProbe(cachePath: cache, logger: .init(label: "test")).capabilities(emulator: emulator)
        #expect(first.machine(named: "q35")?.name.hasPrefix("pc-q35-") == true)
        #expect(first.defaultMachine?.alias == "pc")
        #expect(first.arch == "x86_64" && first.version >= 7_000_000)
        // A cache entry for the same binary is used as it is: no QEMU runs.
        var marked = first
        marked.machines[0].name = "marked-by-test"
        try JSONEncoder().encode([emulator: marked]).write(to: URL(fileURLWithPath: cache.string))
        let cached = try await QEMUCapabilitiesProbe(cachePath: cache, logger: .init(label: "test")).capabilities(emulator: emulator)
        #expect(cached.machines[0].name == "marked-by-test")
        // An entry for another size or time is stale: QEMU is asked again.
        marked.binaryModified -= 1
        try JSONEncoder().encode([emulator: marked]).write(to: URL(fileURLWithPath: cache.string))
        let probed = try await QEMUCapabilitiesProbe(cachePath: cache, logger: .init(label: "test")).capabilities(emulator: emulator)
        #expect(probed == first)
    }
}
