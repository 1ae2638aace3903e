import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle
import SystemPackage
import VirtKitAPI
import VirtKitHost
import VirtKitLibvirtServer
import VirtKitRuntime
#if canImport(Glibc)
import Glibc
#endif

/// virtkitd: the hypervisor behind an HTTP/JSON API on a UNIX socket, as a ServiceGroup that
/// stops gracefully on SIGTERM or SIGINT. Guests are not stopped with it: QEMU runs in sessions
/// of its own, and the next virtkitd re-attaches from the status files.
public struct Daemon: Sendable {
    public var layout: RuntimeLayout
    /// Where the test guest lives, for the KVM probe.
    public var guestDirectory: FilePath?
    public var logLevel: Logger.Level
    /// The group the API socket and guest sockets are shared with (0660); nil: owner only (0600).
    public var socketGroup: gid_t?
    /// What the executable's thread-slice request came to (logged at start).
    public var threadSlice: ThreadSliceOutcome
    /// How long an API client that owes the next bytes may hold its connection without them.
    public var idleTimeout: Duration = .seconds(60)
    /// How many API connections one user (not root) may hold at once.
    public var connectionsPerUser = 256
    /// Where libvirt's RPC protocol is served (``LibvirtRPCServer``); nil: nowhere.
    public var libvirtSocketPath: FilePath?

    public init(layout: RuntimeLayout, guestDirectory: FilePath?, logLevel: Logger.Level = .info, socketGroup: gid_t? = nil,
                threadSlice: ThreadSliceOutcome = .kernelDefault) {
        self.threadSlice = threadSlice
        self.layout = layout
        self.guestDirectory = guestDirectory
        self.logLevel = logLevel
        self.socketGroup = socketGroup
    }

    public func run() async throws {
        var logger = Logger(label: "virtkitd")
        logger.logLevel = logLevel
        logger.debug("thread slice", metadata: ["slice": "\(threadSlice.description)"])
        // Everything virtkitd creates is private unless it says otherwise (sockets 0600, dirs 0700).
        umask(0o077)
        for directory in [layout.runDirectory, layout.stateDirectory] {
            do { try AtomicFile.makeDirectory(directory) } catch { throw APIError(.systemError, error.description) }
        }
        let lock = try DaemonLock.acquire(layout.runDirectory.appending("virtkitd.lock"),
                                          socketPath: layout.socketPath)
        defer { lock.release() }
        let probe = AcceleratorProbe(cachePath: layout.stateDirectory.appending("kvm-probe.json"),
                                     guestDirectory: guestDirectory, logger: logger)
        let monitorSettings = try MonitorSettings.load(layout.configDirectory.appending("monitor.conf"))
        let consoleSettings = try ConsoleSettings.load(layout.configDirectory.appending("console.conf"))
        let hostSettings = try HostSettings.load(layout.configDirectory.appending("host.conf"))
        DescriptorHolder.install(Self.connectHolder(layout.runDirectory.appending("fd-holder.sock"), logger: logger))
        let hypervisor = Hypervisor(layout: layout, logger: logger, accelerators: probe, monitorSettings: monitorSettings,
                                    consoleSettings: consoleSettings,
                                    socketGroup: socketGroup)
        try await hypervisor.load()

        let socketPath = layout.socketPath
        let runningLogger = logger
        let sharedGroup = socketGroup
        let gate = APIPeerGate(access: PeerAccess(group: socketGroup), limitPerUser: connectionsPerUser)
        let idleTimeout = TimeAmount(self.idleTimeout)
        let app = Application(
            router: try APIRouter.make(hypervisor: hypervisor, mode: layout.mode == .system ? .system : .session),
            server: HTTPServerBuilder { responder in
                var channel = StreamUpgradeChannel(responder: responder, gate: gate) { path throws(APIError) in
                    try await APIRouter.streamSocket(path: path, hypervisor: hypervisor)
                }
                channel.idleTimeout = idleTimeout
                return channel
            },
            configuration: .init(address: .unixDomainSocket(path: socketPath.string), serverName: "virtkitd"),
            onServerRunning: { _ in
                chmod(socketPath.string, 0o600)
                if let sharedGroup {
                    do { try UnixSocket.share(socketPath, withGroup: sharedGroup) } catch {
                        runningLogger.error("\(error)")
                    }
                }
                runningLogger.info("virtkitd listening", metadata: ["socket": "\(socketPath.string)"])
                // Under systemd (Type=notify): ready once the API answers.
                SystemdNotify.send("READY=1", environment: ProcessInfo.processInfo.environment)
            },
            logger: logger)
        var services: [any Service] = [app]
        if let libvirtSocketPath {
            if libvirtSocketPath.removingLastComponent() != layout.socketPath.removingLastComponent() {
                do { try AtomicFile.makeDirectory(libvirtSocketPath.removingLastComponent()) } catch {
                    throw APIError(.systemError, error.description)
                }
            }
            services.append(LibvirtRPCServer(socketPath: libvirtSocketPath, group: socketGroup, hypervisor: hypervisor,
                                             logger: logger, admit: gate.admit))
        }
        if let (host, port) = hostSettings.metricsAddress {
            services.append(Self.metricsServer(host: host, port: port, hypervisor: hypervisor, logger: logger))
        }
        var configured = services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) }
        // It ends once the guests are started; the daemon goes on.
        configured.append(.init(service: AutostartService(hypervisor: hypervisor, marker: layout.runDirectory.appending("autostarted"),
                                                          settings: hostSettings, logger: logger),
                                successTerminationBehavior: .ignore))
        let group = ServiceGroup(
            configuration: .init(services: configured, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        unlink(socketPath.string)
    }

    /// The descriptor holder of this run directory, started (as `virtkitd --fd-holder PATH`, in a
    /// session of its own) when none runs; nil, with the reason logged, when it cannot be had:
    /// guests still run, but a daemon crash would lose what QEMU writes meanwhile.
    static func connectHolder(_ path: FilePath, logger: Logger) -> DescriptorHolder? {
        do {
            return try DescriptorHolder.connect(at: path) { () throws(HostError) in
                guard let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
                    throw HostError("cannot find virtkitd's own executable", "/proc/self/exe", .noSuchFileOrDirectory)
                }
                guard let devNull = try? FileDescriptor.open("/dev/null", .writeOnly, options: [.closeOnExec]) else {
                    throw HostError("cannot open", "/dev/null", .noSuchFileOrDirectory)
                }
                defer { try? devNull.close() }
                _ = try ProcessSpawner.spawn(executable: FilePath(executable), arguments: ["virtkitd", "--fd-holder", path.string],
                                             environment: [:], output: devNull, placements: [])
            }
        } catch {
            logger.error("no descriptor holder: \(error); consoles lose what QEMU writes while virtkitd is down")
            return nil
        }
    }

    /// `GET /metrics` on TCP (host.conf's `metrics_address`), for a Prometheus that cannot reach
    /// the API socket. Nothing else is served there: the API stays on its socket, where peers
    /// are checked.
    static func metricsServer(host: String, port: Int, hypervisor: Hypervisor, logger: Logger) -> some Service {
        let router = Router()
        router.get("/metrics") { _, _ -> Response in
            let text = await MetricsReport.render(hypervisor)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                            body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        return Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "virtkitd-metrics"),
                           logger: logger)
    }
}
