import Foundation
import Logging
import SystemPackage
import VirtKitHost
#if canImport(Glibc)
import Glibc
#endif

/// Decides whether KVM really works on this host, by booting the test guest under KVM with a
/// deadline: on nested paravirtual hosts /dev/kvm opens but Linux never finishes booting, and
/// `-accel kvm -accel tcg` does not fall back. The answer is cached per host (kernel release and
/// QEMU binary) in the state directory, and computed at most once per daemon.
public actor AcceleratorProbe {
    public struct Result: Codable, Sendable, Equatable {
        public var kvmWorks: Bool
        public var kernelRelease: String
        public var emulator: String
        public var detail: String
    }

    let cachePath: FilePath
    let emulator: String
    /// The test guest (vmlinux and initrd.img) the probe boots; without it KVM is not trusted.
    let guestDirectory: FilePath?
    let deadline: Duration
    let logger: Logger
    private var decided: Result?

    public init(cachePath: FilePath, emulator: String = "/usr/bin/qemu-system-x86_64",
                guestDirectory: FilePath?, deadline: Duration = .seconds(20), logger: Logger) {
        self.cachePath = cachePath
        self.emulator = emulator
        self.guestDirectory = guestDirectory
        self.deadline = deadline
        self.logger = logger
    }

    /// The accelerator a `type='kvm'` domain runs with here.
    public func kvmAccelerator() async -> Accelerator {
        await result().kvmWorks ? .kvm : .tcg
    }

    public func result() async -> Result {
        if let decided { return decided }
        let release = Self.kernelRelease()
        if let bytes = AtomicFile.read(cachePath),
           let cached = try? JSONDecoder().decode(Result.self, from: Data(bytes)),
           cached.kernelRelease == release, cached.emulator == emulator {
            decided = cached
            return cached
        }
        let (works, detail) = await probe()
        let result = Result(kvmWorks: works, kernelRelease: release, emulator: emulator, detail: detail)
        if let data = try? JSONEncoder().encode(result) { try? AtomicFile.write(Array(data), to: cachePath) }
        logger.info("KVM probe: \(works ? "usable" : "not usable"): \(detail)")
        decided = result
        return result
    }

    func probe() async -> (Bool, String) {
        guard access("/dev/kvm", R_OK | W_OK) == 0 else { return (false, "/dev/kvm is not accessible") }
        guard let guest = guestDirectory,
              access(guest.appending("vmlinux").string, R_OK) == 0,
              access(guest.appending("initrd.img").string, R_OK) == 0 else {
            return (false, "no test guest to probe with")
        }
        let output = FilePath("/tmp/virtkit-kvm-probe-\(getpid()).log")
        defer { unlink(output.string) }
        guard let log = try? FileDescriptor.open(output, .readWrite, options: [.create, .truncate],
                                                 permissions: [.ownerReadWrite]) else {
            return (false, "cannot create probe log")
        }
        defer { try? log.close() }
        // The CPU model a type='kvm' domain gets by default: what is probed is what will run.
        let arguments = [emulator, "-machine", "q35", "-accel", "kvm", "-m", "128",
                         "-nodefaults", "-no-user-config", "-display", "none", "-serial", "stdio",
                         "-kernel", guest.appending("vmlinux").string, "-initrd", guest.appending("initrd.img").string,
                         "-append", "console=ttyS0 mitigations=off cryptomgr.notests no_timer_check"]
        guard let pid = try? ProcessSpawner.spawn(executable: FilePath(emulator), arguments: arguments,
                                                  environment: ["LC_ALL": "C"], output: log, placements: []),
              let identity = ProcessIdentity.of(pid: pid) else {
            return (false, "cannot start \(emulator)")
        }
        let clock = ContinuousClock()
        let start = clock.now
        var works = false
        var exited = false
        var text = ""
        while clock.now - start < deadline {
            try? await Task.sleep(for: .milliseconds(200))
            text = String(decoding: AtomicFile.read(output) ?? [], as: UTF8.self)
            if text.contains("VIRTKIT-GUEST-READY") { works = true; break }
            if !identity.isAlive { exited = true; break }
        }
        identity.send(signal: SIGKILL)
        _ = await ProcessExitWatcher.waitForExit(identity)
        let elapsed = clock.now - start
        if works { return (true, "test guest booted under KVM in \(elapsed)") }
        if exited {
            let last = text.split(separator: "\n").last.map(String.init) ?? ""
            return (false, "QEMU exited while booting the test guest under KVM: \(last)")
        }
        return (false, "test guest did not boot under KVM within \(deadline)")
    }

    static func kernelRelease() -> String {
        var info = utsname()
        uname(&info)
        return withUnsafeBytes(of: info.release) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
    }
}
