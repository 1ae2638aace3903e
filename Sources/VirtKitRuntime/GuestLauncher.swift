import Foundation
import Logging
import SystemPackage
import VirtKitModel
import VirtKitBroker
import VirtKitDomain
import VirtKitHost
import VirtKitMonitor
import VirtKitQEMU
import VirtKitQMP
#if canImport(Glibc)
import Glibc
#endif

/// Carries out a real start as libvirt does: the guest's run directory, the listening sockets and
/// files of the descriptor plan opened by virtkitd, QEMU spawned paused (-S) with them at their
/// numbers, QMP set up (capabilities, pty paths), then `cont` unless asked to stay paused.
/// On any failure nothing is left behind: no process, no socket, no directory.
struct GuestLauncher {
    let layout: RuntimeLayout
    let logger: Logger
    /// The group the sockets VirtKit creates for QEMU are given to (then 0660); nil: 0600.
    var socketGroup: gid_t?
    /// Log rotation and scrollback of the console brokers.
    var consoleSettings = ConsoleSettings()
    /// Who may use the monitor channels, and what they may do.
    var monitorRules = MonitorRules()

    /// The paths the command-line builder uses for guest `id`.
    func paths(id: Int, name: String) -> QEMUPaths {
        let directory = layout.guestDirectory(id: id, name: name).string
        return QEMUPaths(domainDirectory: directory, channelDirectory: directory)
    }

    /// Every listening socket path VirtKit would generate for `domain` as guest `id` that does not
    /// fit in `sockaddr_un`, with its length. Explicit paths are not listed: any length works.
    func overlongGeneratedPaths(_ domain: Domain, id: Int) -> [(String, Int)] {
        let paths = self.paths(id: id, name: domain.name)
        guard let invocation = try? QEMUCommandLineBuilder(paths: paths, mode: .start(firstFD: 3)).build(domain) else {
            return []
        }
        return overlongGeneratedPaths(invocation, paths: paths)
    }

    func overlongGeneratedPaths(_ invocation: QEMUInvocation, paths: QEMUPaths) -> [(String, Int)] {
        invocation.descriptors.compactMap { descriptor in
            guard case .listeningUnixSocket(let path) = descriptor.purpose,
                  path.hasPrefix(paths.domainDirectory + "/"),
                  path.utf8.count > UnixSocket.maximumDirectPathLength else { return nil }
            return (path, path.utf8.count)
        }
    }

    /// Starts `domain` as guest `id`: ``StartPlan`` works out what to do, ``StartRun`` does it
    /// in ``StartSequence``'s order. `began`: when the start was asked for (the debug log's
    /// phases count from it).
    func launch(domain: Domain, id: Int, paused: Bool, accelerator: Accelerator, monitorPlan: MonitorServer.TCPPlan,
                began: ContinuousClock.Instant = .now,
                onExit: @escaping @Sendable (DomainStateReason) async -> Void) async throws(RuntimeError) -> RunningGuest {
        let plan = try StartPlan(launcher: self, domain: domain, id: id, accelerator: accelerator)
        var run = StartRun(launcher: self, plan: plan, paused: paused, monitorPlan: monitorPlan, began: began, onExit: onExit)
        return try await run.run()
    }

    /// 32 random bytes for QEMU's master key (libvirt's size), four draws of the system generator.
    func randomKey() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var key: [UInt8] = []
        key.reserveCapacity(32)
        for _ in 0..<4 { withUnsafeBytes(of: generator.next() as UInt64) { key.append(contentsOf: $0) } }
        return key
    }
}

/// Which accelerator QEMU runs a `type='kvm'` domain with.
public enum Accelerator: String, Sendable, Codable {
    case kvm, tcg
}
