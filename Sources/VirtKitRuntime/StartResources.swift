import SystemPackage
import VirtKitHost
import VirtKitMonitor
import VirtKitQEMU
import VirtKitQMP
#if canImport(Glibc)
import Glibc
#endif

/// The handles a start holds until the ``RunningGuest`` takes them over, and the one place that
/// lets them go: ``undo(_:)`` takes the ``StartSequence``'s list, in its order.
struct StartResources {
    let guestDirectory: FilePath
    let statusPath: FilePath
    /// The start's own record (``StartIntent``), for a daemon killed in the middle of it.
    let intentPath: FilePath
    /// The sockets made for QEMU and for the brokers (removed on failure).
    var createdSockets: [String] = []
    /// The listeners of brokered sockets' own paths, by alias, until the brokers take them.
    var servedListeners: [String: FileDescriptor] = [:]
    /// Our copies of QEMU's descriptors, each with its plan.
    var qemuDescriptors: [(descriptor: FileDescriptor, planned: PlannedDescriptor)] = []
    var process: ProcessIdentity?
    /// The unix brokers, and the pty brokers prepared while QEMU starts.
    var unixBrokers: Task<GuestBrokers, any Error>?
    var ptyBrokers: Task<[GuestBrokers.Entry], any Error>?
    var qmp: QMP.Client?
    /// The guest a monitor client's `quit` waits for, and the monitor channels.
    var pending: PendingGuest?
    var monitor: Task<Result<MonitorServer, any Error>, Never>?

    init(guestDirectory: FilePath, statusPath: FilePath, intentPath: FilePath) {
        self.guestDirectory = guestDirectory
        self.statusPath = statusPath
        self.intentPath = intentPath
    }

    /// The served listeners, for the brokers to take over.
    mutating func takeServedListeners() -> [String: FileDescriptor] {
        defer { servedListeners = [:] }
        return servedListeners
    }

    /// Closes our copies of QEMU's descriptors: once it holds them, ours would only keep its
    /// sockets alive after it exits.
    mutating func closeQEMUDescriptors() {
        for entry in qemuDescriptors { try? entry.descriptor.close() }
        qemuDescriptors = []
    }

    /// The guest took everything over: nothing is the start's to undo any more.
    mutating func handOver() {
        createdSockets = []
        servedListeners = [:]
        qemuDescriptors = []
        process = nil
        unixBrokers = nil
        ptyBrokers = nil
        qmp = nil
        pending = nil
        monitor = nil
    }

    /// Lets go of `resources`, in the order given.
    mutating func undo(_ resources: [StartSequence.Resource]) async {
        for resource in resources {
            switch resource {
            case .monitor:
                // The guest first: a monitor client's quit may be waiting for it.
                await pending?.settle(nil)
                if case .success(let server) = await monitor?.value { await server.stop() }
                monitor = nil
            case .qmp:
                await qmp?.close()
                qmp = nil
            case .brokers:
                await stopBrokers()
            case .process:
                if let process {
                    process.send(signal: SIGKILL)
                    _ = await ProcessExitWatcher.waitForExit(process)
                }
                process = nil
            case .servedListeners:
                for descriptor in takeServedListeners().values { try? descriptor.close() }
            case .qemuDescriptors:
                closeQEMUDescriptors()
            case .socketFiles:
                for socket in createdSockets { UnixSocket.remove(at: FilePath(socket)) }
                createdSockets = []
            case .runDirectory:
                try? DescriptorHolder.installed?.drop(prefix: guestDirectory.string + "/")
                AtomicFile.removeTree(guestDirectory)
                unlink(statusPath.string)  // written before `cont`, gone with the rest
                unlink(intentPath.string)
            }
        }
    }

    /// Stops whatever the broker tasks made (stopping one twice does nothing).
    private mutating func stopBrokers() async {
        if let brokers = try? await unixBrokers?.value { await brokers.stop() }
        for entry in (try? await ptyBrokers?.value) ?? [] {
            await GuestBrokers.stop(entry, guestDirectory: guestDirectory.string)
        }
        unixBrokers = nil
        ptyBrokers = nil
    }
}
