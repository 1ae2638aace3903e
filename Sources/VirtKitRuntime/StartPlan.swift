import SystemPackage
import VirtKitDomain
import VirtKitHost
import VirtKitQEMU
#if canImport(Glibc)
import Glibc
#endif

/// What a start will do, worked out before anything is touched: QEMU's command line and
/// descriptor plan, the chardevs virtkitd brokers, the paths. A start that cannot go ahead
/// (an unsupported configuration, a socket path that cannot be bound, no emulator) fails here
/// with nothing to undo.
struct StartPlan {
    /// The definition as saved.
    let domain: Domain
    /// As QEMU runs it (`kvm` becomes `qemu` under TCG).
    let runDomain: Domain
    let id: Int
    let paths: QEMUPaths
    let invocation: QEMUInvocation
    let emulator: String
    /// The brokered chardevs, in plan order.
    let brokered: [BrokeredChardev]

    init(launcher: GuestLauncher, domain: Domain, id: Int, accelerator: Accelerator) throws(RuntimeError) {
        var runDomain = domain
        if domain.virtType == .kvm && accelerator == .tcg { runDomain.virtType = .qemu }
        let paths = launcher.paths(id: id, name: domain.name)
        let invocation: QEMUInvocation
        do {
            invocation = try QEMUCommandLineBuilder(paths: paths, mode: .start(firstFD: 3)).build(runDomain)
        } catch {
            throw RuntimeError(.configUnsupported, error.message, cause: error)
        }
        if let (path, length) = launcher.overlongGeneratedPaths(invocation, paths: paths).first {
            throw RuntimeError(.configUnsupported,
                               "UNIX socket path '\(path)' too long: \(length) bytes, at most \(UnixSocket.maximumDirectPathLength) fit")
        }
        guard let emulator = invocation.arguments.first, access(emulator, X_OK) == 0 else {
            let emulator = invocation.arguments.first ?? ""
            throw RuntimeError(.systemError, "Cannot check QEMU binary \(emulator): \(Errno(rawValue: errno).description)")
        }
        self.domain = domain
        self.runDomain = runDomain
        self.id = id
        self.paths = paths
        self.invocation = invocation
        self.emulator = emulator
        brokered = BrokeredChardev.plan(
            domain: runDomain, builder: QEMUCommandLineBuilder(paths: paths, mode: .start(firstFD: 3)),
            guestDirectory: paths.domainDirectory, logDirectory: launcher.layout.logDirectory,
            settings: launcher.consoleSettings)
    }

    var guestDirectory: FilePath { FilePath(paths.domainDirectory) }
    var monitorPath: String { paths.domainDirectory + "/monitor.sock" }
    /// The brokered pty chardevs (the others are unix sockets), in plan order.
    var ptyAliases: [String] { brokered.filter { $0.peerSocket == nil }.map(\.alias) }

    /// The descriptors QEMU gets, as the status records them.
    var descriptorRecords: [GuestStatus.DescriptorRecord] {
        invocation.descriptors.map {
            GuestStatus.DescriptorRecord(number: $0.number, label: $0.label, purpose: Self.describe($0.purpose))
        }
    }

    static func describe(_ purpose: PlannedDescriptor.Purpose) -> String {
        switch purpose {
        case .listeningUnixSocket(let path): return "listening UNIX socket " + path
        case .writableFile(let path, let append): return (append ? "file (append) " : "file ") + path
        case .tap(let interface): return "tap of interface \(interface)"
        }
    }
}
