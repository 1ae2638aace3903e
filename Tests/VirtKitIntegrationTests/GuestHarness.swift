import Foundation
import Logging
import SystemPackage
import VirtKitAPI
import VirtKitHost
import VirtKitRuntime
import VirtKitTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// What the runtime tests share: the bundled test guest (built once by Scripts/build-test-guest.sh),
/// a private daemon layout under a short /tmp directory, domain XML for the guest, and checks that
/// nothing is left behind.
struct GuestHarness {
    static let guestDirectory = TestGuestImage.directory

    let root: FilePath
    let layout: RuntimeLayout
    let logger: Logger

    init(runDirectory: String? = nil) throws {
        try TestGuestImage.built.get()
        root = FilePath("/tmp/vkr-\(getpid())-\(UInt16.random(in: 0...UInt16.max))")
        try AtomicFile.makeDirectory(root)
        let run = runDirectory.map { FilePath($0) } ?? root.appending("run")
        layout = RuntimeLayout(mode: .session, configDirectory: root.appending("etc"), stateDirectory: root.appending("state"),
                               runDirectory: run, logDirectory: root.appending("log"),
                               socketPath: run.appending("virtkitd.sock"))
        var logger = Logger(label: "virtkitd-test")
        logger.logLevel = .warning
        self.logger = logger
    }

    func probe(deadline: Duration = .seconds(20)) -> AcceleratorProbe {
        AcceleratorProbe(cachePath: layout.stateDirectory.appending("kvm-probe.json"),
                         guestDirectory: FilePath(Self.guestDirectory), deadline: deadline, logger: logger)
    }

    func hypervisor(probe: AcceleratorProbe? = nil, consoleSettings: ConsoleSettings = ConsoleSettings()) async throws -> Hypervisor {
        let probe = probe ?? self.probe()
        let hypervisor = Hypervisor(layout: layout, logger: logger, accelerators: probe, consoleSettings: consoleSettings)
        try await hypervisor.load()
        return hypervisor
    }

    /// The test guest's domain: serial 0 on a bind socket at `serialPath`, the echo service's
    /// channel (generated path unless `echoPath` is given), the guest agent channel.
    func domainXML(name: String, type: String = "qemu", uuid: String = UUID().uuidString.lowercased(), echoPath: String? = nil,
                   kernel: String? = nil, emulator: String? = nil, extraDevices: String = "") -> String {
        let echoSource = echoPath.map { "<source mode='bind' path='\($0)'/>" } ?? ""
        return """
            <domain type='\(type)'>
              <name>\(name)</name>
              <uuid>\(uuid)</uuid>
              <memory unit='MiB'>128</memory>
              <vcpu>1</vcpu>
              <os>
                <type arch='x86_64' machine='q35'>hvm</type>
                <kernel>\(kernel ?? Self.guestDirectory + "/vmlinux")</kernel>
                <initrd>\(Self.guestDirectory)/initrd.img</initrd>
                <cmdline>console=ttyS0 mitigations=off cryptomgr.notests no_timer_check</cmdline>
              </os>
              <features><acpi/></features>
              <devices>
                \(emulator.map { "<emulator>\($0)</emulator>" } ?? "")
                <serial type='unix'>
                  <source mode='bind' path='\(serialPath(name))'/>
                </serial>
                <channel type='unix'>
                  \(echoSource)
                  <target type='virtio' name='org.example.echo'/>
                </channel>
                <channel type='unix'>
                  <target type='virtio' name='org.qemu.guest_agent.0'/>
                </channel>
                \(extraDevices)
              </devices>
            </domain>
            """
    }

    func serialPath(_ name: String) -> String { root.appending("\(name)-serial.sock").string }

    /// Everything under the daemon's run directory that a stopped guest must not leave behind.
    func leftovers() -> [String] {
        var found: [String] = []
        for directory in [layout.guestsDirectory, layout.statusDirectory] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.string)) ?? []
            found += names.map { directory.appending($0).string }
        }
        return found
    }

    /// Removes the harness's files; a QEMU that a failed test left running (guests outlive
    /// their daemon by design) is killed first: its command line names the harness's directory.
    func cleanUp() {
        for pid in Self.processes(mentioning: root.string) {
            kill(pid, SIGKILL)
        }
        AtomicFile.removeTree(root)
    }

    /// Pids of processes whose command line mentions `text` (a domain's uuid).
    static func processes(mentioning text: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard pid != getpid(), let identity = ProcessIdentity.of(pid: pid) else { return false }
            return identity.arguments.contains { $0.contains(text) }
        }
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
