import Foundation
import Logging
import Synchronization
import SystemPackage
import VirtKitModel
import VirtKitDomain
import VirtKitGuestAgent
import VirtKitHost
import VirtKitMonitor
import VirtKitQMP
#if canImport(Glibc)
import Glibc
#endif

/// One QEMU process and everything virtkitd holds for it: the QMP connection, the status file,
/// the files it created. It reacts to QMP events and to the process's exit, and carries out the
/// stop ladder. An actor: its operations run on its own executor; the status is also kept in a
/// `Mutex` so that the hypervisor can read a snapshot without waiting behind a stop ladder.
public actor RunningGuest {
    /// The live definition: as started, plus the devices hot-plugged since.
    nonisolated public var domain: Domain { domainBox.withLock { $0 } }
    private let domainBox: Mutex<Domain>
    let layout: RuntimeLayout
    let logger: Logger
    private let statusBox: Mutex<GuestStatus>
    let qmp: QMP.Client
    let exited = ExitLatch()
    /// libvirt's fake reboot: the next SHUTDOWN resets and continues instead of quitting.
    var rebootPending = false
    /// Who hears of what the guest does on its own: pauses and resumes (whoever made them),
    /// resets, the agent coming and going.
    var noticeObserver: (@Sendable (Notice) async -> Void)?
    /// The monitor channels served to many clients (nil until started, or when they failed).
    var monitor: MonitorServer?
    /// The console brokers of the chardevs virtkitd is QEMU's peer on.
    var brokers: GuestBrokers?
    /// The guest agent client, over the agent channel's broker (made at first use).
    var agentClient: GuestAgent.Client?
    /// Told once, after the process is gone and its files are cleaned up.
    let onExit: @Sendable (DomainStateReason) async -> Void

    init(domain: Domain, status: GuestStatus, qmp: QMP.Client, layout: RuntimeLayout, logger: Logger,
         onExit: @escaping @Sendable (DomainStateReason) async -> Void) {
        self.domainBox = Mutex(domain)
        self.statusBox = Mutex(status)
        self.qmp = qmp
        self.layout = layout
        self.logger = logger
        self.onExit = onExit
    }

    /// The status as it is now.
    nonisolated public var snapshot: GuestStatus { statusBox.withLock { $0 } }
    nonisolated public var id: Int { snapshot.id }

    /// Replaces the live definition (a hot-plug) and saves it in the run directory, where a
    /// re-attach reads it.
    func setLiveDomain(_ domain: Domain) {
        domainBox.withLock { $0 = domain }
        let path = FilePath(snapshot.guestDirectory).appending("domain.xml")
        do {
            try AtomicFile.write(DomainFormatter.format(domain), to: path, durable: false)
        } catch {
            logger.error("cannot save the live definition: \(error)", metadata: ["domain": "\(domain.name)"])
        }
    }

    func update(_ change: (inout GuestStatus) -> Void) {
        let (status, changed) = statusBox.withLock { status in
            let before = status
            change(&status)
            return (status, status != before)
        }
        // An event that changes nothing (the RESUME that a start's own `cont` brings, the status
        // already says running) writes nothing: that write competed with QEMU for the CPUs just
        // as the start waited for `cont`'s answer.
        guard changed else { return }
        do {
            try status.write(to: layout.statusPath(domain.name))
        } catch {
            logger.error("cannot write status: \(error)", metadata: ["domain": "\(domain.name)"])
        }
    }

    // MARK: - Stopping

    func appendLog(_ line: String) {
        GuestFiles.appendLog(layout.logPath(domain.name), line)
    }
}
