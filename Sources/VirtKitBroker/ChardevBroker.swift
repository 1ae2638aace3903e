#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import NIOCore
import NIOPosix
import Synchronization
import SystemPackage

/// virtkitd as QEMU's peer on one chardev (a pty console, a UNIX socket, a guestfwd or
/// virtio channel), fanned out to any number of clients.
///
/// The broker reads QEMU's side as fast as it comes. Every byte goes, from the read path
/// itself, to the log (``LogConfiguration``), to a scrollback ring replayed to each new client
/// (``Configuration/scrollbackSize``), and to each client's bounded queue
/// (``Configuration/clientQueueLimit``): a client that falls behind loses its queue and later
/// reads a ``BrokerOutput/gap(skipped:)`` with the exact count, and never slows the guest or
/// the other clients. Who may type follows the pen rules of ``ClientMode``.
///
/// Clients either ``attach(_:label:)`` and read ``BrokerClient/output``, or hand over a
/// connected socket with ``serve(connectedSocket:mode:label:)``.
///
/// Thread safety: all mutable state (clients, queues, pen, scrollback, log) lives in one
/// object confined to the event loop of QEMU's side's channel; the public types are
/// `Sendable` handles that hop to that loop for every call (`NIOLoopBound` checks it). Served
/// sockets share that loop. The broker's own flag (stopped or not) is a `Mutex`. Log writes
/// are plain `write(2)` calls on that loop, in read order.
///
/// Lifetime: ``start(peer:configuration:logger:)`` takes ownership of the descriptor;
/// ``stop()`` closes it, every client and the log. A broker dropped without ``stop()`` stops
/// without waiting.
public final class ChardevBroker: Sendable {
    /// What this broker was started with.
    public let configuration: Configuration

    private let link: BrokerLink
    private let logger: Logger
    private let stopped = Mutex(false)

    private init(configuration: Configuration, link: BrokerLink, logger: Logger) {
        self.configuration = configuration
        self.link = link
        self.logger = logger
    }

    deinit {
        guard stopped.withLock({ !$0 }) else { return }
        let link = link
        link.eventLoop.execute { _ = link.core.value.stop() }
    }

    /// Starts serving the chardev whose host side is `peer`: a connected socket, or a pty or
    /// tty (put in raw mode here). Reading starts before this returns, so start it before the
    /// guest runs to have the log and scrollback from the first byte.
    ///
    /// The broker owns `peer` from this call on, and closes it when it throws.
    /// - Throws: ``BrokerError/invalidConfiguration(_:)``,
    ///   ``BrokerError/peerSetupFailed(console:what:errno:)``,
    ///   ``BrokerError/logOpenFailed(path:errno:)``.
    public static func start(
        peer: SystemPackage.FileDescriptor, configuration: Configuration, logger: Logger = Logger(label: "virtkit.broker")
    ) async throws(BrokerError) -> ChardevBroker {
        let broker: ChardevBroker
        do {
            broker = try await prepare(configuration: configuration, logger: logger)
        } catch {
            try? peer.close()
            throw error
        }
        do {
            try await broker.connect(peer: peer)
        } catch {
            await broker.stop()
            throw error
        }
        return broker
    }

    /// A broker whose QEMU side comes later, with ``connect(peer:)``: its log is open and
    /// clients are served from now on (input before the peer comes is dropped), so a start can
    /// open a console's sockets while QEMU is still allocating the pty.
    public static func prepare(
        configuration: Configuration, logger: Logger = Logger(label: "virtkit.broker")
    ) async throws(BrokerError) -> ChardevBroker {
        try configuration.validate()
        let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
        let core: NIOLoopBound<BrokerCore>
        do {
            core = try await eventLoop.submit {
                let log = try configuration.log.map { spec throws(BrokerError) in
                    try RotatingLog(configuration: spec, logger: logger)
                }
                let core = BrokerCore(configuration: configuration, log: log, logger: logger, eventLoop: eventLoop)
                if log != nil, let path = configuration.logCommitPath {
                    do { core.commit = try LogCommit.open(path) } catch {
                        logger.error("no log commit record; a crash may log some bytes twice",
                                     metadata: ["path": "\(path)", "error": "\(error)"])
                    }
                }
                return NIOLoopBound(core, eventLoop: eventLoop)
            }.get()
        } catch {
            throw error as? BrokerError ?? .stopped(console: configuration.name)
        }
        let link = BrokerLink(eventLoop: eventLoop, core: core, console: configuration.name)
        return ChardevBroker(configuration: configuration, link: link, logger: logger)
    }

    /// Connects QEMU's side (see ``start(peer:configuration:logger:)``); once per broker. The
    /// broker owns `peer` from this call on, and closes it when it throws.
    public func connect(peer: SystemPackage.FileDescriptor) async throws(BrokerError) {
        let console = configuration.name
        let core = link.core
        let eventLoop = link.eventLoop
        var status = stat()
        do throws(Errno) {
            guard fstat(peer.rawValue, &status) == 0 else { throw Errno(rawValue: errno) }
            try RawTerminal.makeRaw(peer)
        } catch {
            try? peer.close()
            throw .peerSetupFailed(console: console, what: "fstat or termios", errno: error)
        }
        let initializer: @Sendable (Channel) -> EventLoopFuture<Void> = { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(PeerHandler(core: core.value))
            }
        }
        let channel: Channel
        do {
            if (status.st_mode & S_IFMT) == S_IFSOCK {
                // NIO owns the socket from here, failed or not. It only writes: a
                // PeerSocketReader reads, so that nothing is taken before it is logged.
                channel = try await ClientBootstrap(group: eventLoop).channelInitializer(initializer)
                    .channelOption(.autoRead, value: false)
                    .withConnectedSocket(peer.rawValue).get()
            } else {
                channel = try await NIOPipeBootstrap(group: eventLoop).channelInitializer(initializer)
                    .takingOwnershipOfDescriptor(inputOutput: peer.rawValue).get()
            }
        } catch {
            if (status.st_mode & S_IFMT) != S_IFSOCK { try? peer.close() }
            let code = (error as? IOError).map { Errno(rawValue: $0.errnoCode) } ?? .ioError
            throw .peerSetupFailed(console: console, what: "registering the descriptor", errno: code)
        }
        let isSocket = (status.st_mode & S_IFMT) == S_IFSOCK
        let socket = peer.rawValue
        let reading: Bool? = try? await eventLoop.submit {
            core.value.setPeer(channel)
            guard isSocket else { return true }
            // What a killed daemon logged but left in the socket goes first, then reading.
            guard let reader = PeerSocketReader(socket: socket, core: core, eventLoop: eventLoop) else { return false }
            _ = core.value.recover(peek: reader.peek, consume: { reader.consume($0, mark: $1) })
            core.value.socketReader = reader
            return true
        }.get()
        if reading != true {
            channel.close(promise: nil)
            throw .peerSetupFailed(console: console, what: "reading the socket", errno: .tooManyOpenFiles)
        }
        logger.info(
            "console broker started",
            metadata: ["console": "\(console)", "log": "\(configuration.log?.path.string ?? "none")"])
    }

    /// Closes every client (each reads what it has queued, then
    /// ``BrokerOutput/closed(_:)``), QEMU's side and the log (synced once). Served sockets
    /// get ``Configuration/closeGracePeriod`` to take their last output. Calling it again
    /// does nothing.
    public func stop() async {
        let first = stopped.withLock { stopped in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        let link = link
        try? await link.eventLoop.flatSubmit { link.core.value.stop() }.get()
        logger.info("console broker stopped", metadata: ["console": "\(link.console)"])
    }

    /// Attaches a client under the pen rules of ``ClientMode``; it reads the scrollback
    /// first, then live output.
    ///
    /// `label` names it to a client it takes the pen from (default `client N`).
    /// - Throws: ``BrokerError/consoleInUse(console:)`` for a second read-write client
    ///   without force, ``BrokerError/tooManyClients(console:limit:)``,
    ///   ``BrokerError/stopped(console:)``.
    public func attach(_ mode: ClientMode, label: String? = nil) async throws(BrokerError) -> BrokerClient {
        let link = link
        let result = try? await link.eventLoop.submit { link.core.value.attach(mode: mode, label: label) }.get()
        guard let result else { throw .stopped(console: link.console) }
        let ticket = try result.get()
        return BrokerClient(link: link, id: ticket.id, mode: mode, label: ticket.label)
    }

    /// Counters and state, for status reports.
    public func statistics() async -> Statistics {
        let link = link
        return (try? await link.eventLoop.submit { link.core.value.statistics }.get()) ?? Statistics()
    }

    /// Returns once QEMU's side has closed and all it wrote has been handled (or the broker
    /// stopped).
    public func waitUntilPeerCloses() async {
        let link = link
        _ = try? await link.eventLoop.flatSubmit { link.core.value.peerClosedFuture }.get()
    }

    var brokerLink: BrokerLink { link }
}

/// How the public handles reach a broker's state: its event loop and the state bound to it.
struct BrokerLink: Sendable {
    let eventLoop: EventLoop
    let core: NIOLoopBound<BrokerCore>
    /// The console's name, for errors raised off the loop.
    let console: String
}
