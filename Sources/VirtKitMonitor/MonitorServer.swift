#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import NIOCore
import NIOPosix
import Synchronization
import SystemPackage
import VirtKitQMP

/// One running guest's monitor redirection: its interactive and command channels on UNIX
/// sockets in the guest's run directory and on TCP loopback, any number of clients on each,
/// all served over the daemon's one QMP connection to QEMU.
///
/// The interactive channel speaks HMP as QEMU's own monitor does (banner, `(qemu) ` prompt,
/// each line run through `human-monitor-command`), or QMP when a client's first line is a
/// JSON object (commands passed through with their `id`, every QMP event delivered). The
/// command channel takes one HMP line or QMP object, answers it and closes. Every command
/// passes the ``MonitorPolicy`` first. Commands from different clients are pipelined through
/// the QMP connection at once (QMP matches replies by id); one client's commands run in order.
///
/// Thread safety: each client lives on its channel's event loop, where its handler alone
/// touches its state (a ``MonitorSession``, its output count). What clients share (the
/// register of clients and event subscribers) is in a ``MonitorHub`` behind a `Mutex`; the
/// server's own mutable state (whether it is stopped) is a `Mutex` too. Every channel is
/// served on the QMP connection's event loop, so commands go to QEMU and answers come back
/// on that one thread; only a policy that has to wait (`quit`) runs a task. Nothing a client does can
/// block the QMP connection: events are fanned out without waiting, and a client whose
/// unsent output passes ``Configuration/maxPendingOutput`` is disconnected.
///
/// Who may connect: the UNIX sockets are 0600 in the daemon's private run directory; a TCP
/// connection carries no credentials, so the owner of the peer's socket is looked up in the
/// kernel (loopback peers are sockets of this host) and only ``Configuration/tcpAccess``'s
/// users are served. qemu-init serves anyone who can connect; this is a deliberate difference.
///
/// Lifetime: ``start(configuration:qmp:policy:logger:)`` binds everything before it returns;
/// ``stop()`` must be called when the guest stops (it closes listeners and clients and
/// removes the UNIX socket files). The QMP client stays the caller's.
public final class MonitorServer: Sendable {
    /// Every socket listened on: UNIX interactive and command first, then TCP.
    public let endpoints: [MonitorEndpoint]
    /// The TCP ports (MONPORT, CTLPORT = MONPORT + 100), nil when TCP is off.
    public let tcpPorts: (monitor: Int, command: Int)?
    /// Why TCP is off (disabled by plan, or no free port pair), nil when it is on.
    public let tcpDisabledReason: String?

    let hub: MonitorHub
    private let listeners: [Channel]
    private let socketFiles: [BoundSocketFile]
    private let eventTask: Task<Void, Never>
    private let stopped = Mutex(false)

    private init(
        endpoints: [MonitorEndpoint], tcpPorts: (monitor: Int, command: Int)?, tcpDisabledReason: String?,
        hub: MonitorHub, listeners: [Channel], socketFiles: [BoundSocketFile], eventTask: Task<Void, Never>
    ) {
        self.endpoints = endpoints
        self.tcpPorts = tcpPorts
        self.tcpDisabledReason = tcpDisabledReason
        self.hub = hub
        self.listeners = listeners
        self.socketFiles = socketFiles
        self.eventTask = eventTask
    }

    /// A server dropped without ``stop()`` still closes its sockets (without waiting).
    deinit {
        let first = stopped.withLock { stopped in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        eventTask.cancel()
        for channel in listeners + hub.shutDown() { channel.close(promise: nil) }
        for file in socketFiles { file.remove() }
    }

    /// Binds the guest's monitor sockets and starts serving them.
    ///
    /// The UNIX sockets must bind; TCP is best effort (see ``tcpDisabledReason``).
    /// - Throws: ``MonitorError/socketPathTooLong(path:length:)``,
    ///   ``MonitorError/bindFailed(path:errno:)``, ``MonitorError/permissionsFailed(path:errno:)``
    ///   or ``MonitorError/invalidConfiguration(_:)``; nothing stays bound when it throws.
    public static func start(
        configuration: Configuration, qmp: QMP.Client, policy: MonitorPolicy, logger: Logger
    ) async throws(MonitorError) -> MonitorServer {
        try configuration.validate()
        let hub = MonitorHub(configuration: configuration, qmp: qmp, policy: policy, logger: logger)

        var listeners: [Channel] = []
        var socketFiles: [BoundSocketFile] = []
        var endpoints: [MonitorEndpoint] = []
        for channel in MonitorChannel.allCases {
            let path = configuration.socketPath(for: channel)
            do {
                let (listener, file) = try await bindUNIX(path: path, channel: channel, hub: hub)
                listeners.append(listener)
                socketFiles.append(file)
                endpoints.append(MonitorEndpoint(channel: channel, address: .unix(path: path)))
            } catch {
                for listener in listeners { try? await listener.close() }
                for file in socketFiles { file.remove() }
                throw error
            }
        }

        var allocator = TCPPortAllocator(plan: configuration.tcp, maxAttempts: configuration.maxPortAttempts) {
            channel, host, port in
            await bindTCP(host: host, port: port, channel: channel, hub: hub)
        }
        let allocation = await allocator.allocate()
        for (endpoint, listener) in allocation.listeners {
            listeners.append(listener)
            endpoints.append(endpoint)
        }

        let events = qmp.events()
        // Unstructured because the server outlives start(); stop() cancels it, which ends
        // the event stream and unsubscribes.
        let eventTask = Task {
            for await event in events { hub.broadcast(event) }
        }

        var metadata: Logger.Metadata = [
            "guest": "\(configuration.guestName)", "endpoints": "\(endpoints.map(\.description))",
        ]
        if let reason = allocation.disabledReason { metadata["tcp"] = "\(reason)" }
        logger.info("monitor redirection listening", metadata: metadata)

        return MonitorServer(
            endpoints: endpoints, tcpPorts: allocation.ports, tcpDisabledReason: allocation.disabledReason,
            hub: hub, listeners: listeners, socketFiles: socketFiles, eventTask: eventTask)
    }

    /// Closes the listeners and every client and removes the UNIX socket files. Commands
    /// still running in QEMU finish there; their answers are dropped. Calling it again does
    /// nothing.
    public func stop() async {
        let first = stopped.withLock { stopped in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        eventTask.cancel()
        let clients = hub.shutDown()
        for listener in listeners { listener.close(promise: nil) }
        for client in clients { client.close(promise: nil) }
        for channel in listeners + clients { try? await channel.closeFuture.get() }
        for file in socketFiles { file.remove() }
        hub.logger.info("monitor redirection stopped", metadata: ["guest": "\(hub.configuration.guestName)"])
    }

    /// Connected clients per channel (for status and tests).
    public var clientCounts: [MonitorChannel: Int] { hub.clientCounts }

    // MARK: Binding

    private static func bootstrap(channel: MonitorChannel, hub: MonitorHub, tcp: Bool) -> ServerBootstrap {
        // The QMP connection's own loop, for listeners and clients alike: a command and its
        // reply then pass between client and QEMU without a thread hop.
        var bootstrap = ServerBootstrap(group: hub.runner.qmp.eventLoop)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
        if tcp {
            // SO_REUSEADDR lets a restarted daemon re-bind while old connections sit in
            // TIME_WAIT; never SO_REUSEPORT, which would let two listeners share a port.
            bootstrap = bootstrap
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
        }
        let maxLineLength = hub.configuration.maxLineLength
        return bootstrap.childChannelInitializer { child in
            child.eventLoop.makeCompletedFuture {
                let refusal = tcp ? TCPPeerCheck.refusal(of: child, access: hub.configuration.tcpAccess, hub: hub, channel: channel) : nil
                try child.pipeline.syncOperations.addHandlers([
                    MonitorFrameDecoder(maxLineLength: maxLineLength),
                    MonitorClientHandler(hub: hub, channel: channel, refusal: refusal),
                ])
            }
        }
    }

    private static func bindTCP(
        host: String, port: Int, channel: MonitorChannel, hub: MonitorHub
    ) async -> Result<Channel, Errno> {
        do {
            let address = try SocketAddress(ipAddress: host, port: port)
            return .success(try await bootstrap(channel: channel, hub: hub, tcp: true).bind(to: address).get())
        } catch {
            return .failure(errno(of: error))
        }
    }

    private static func bindUNIX(
        path: FilePath, channel: MonitorChannel, hub: MonitorHub
    ) async throws(MonitorError) -> (Channel, BoundSocketFile) {
        let listener: Channel
        do {
            listener = try await bootstrap(channel: channel, hub: hub, tcp: false)
                .bind(unixDomainSocketPath: path.string, cleanupExistingSocketFile: true).get()
        } catch {
            throw .bindFailed(path: path, errno: errno(of: error))
        }
        // The run directory is private to the daemon, so the moment between bind and chmod
        // exposes nothing.
        guard chmod(path.string, 0o600) == 0 else {
            let code = Errno(rawValue: Glibc.errno)
            try? await listener.close()
            throw .permissionsFailed(path: path, errno: code)
        }
        return (listener, BoundSocketFile(path: path))
    }

    private static func errno(of error: any Error) -> Errno {
        if let error = error as? IOError { return Errno(rawValue: error.errnoCode) }
        if let error = error as? SocketAddressError {
            if case .unixDomainSocketPathTooLong = error { return .fileNameTooLong }
            return .invalidArgument
        }
        return .ioError
    }
}
