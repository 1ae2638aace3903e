import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension QMP {
    /// A connection to one QEMU monitor speaking QMP.
    ///
    /// ``connect(unixPath:timeout:)`` reads the greeting and leaves negotiation mode before it
    /// returns, so a client in hand is ready for commands. Calls may overlap freely: each
    /// command carries its own `id` and QEMU's replies are matched by it, so many tasks can
    /// share one client. Events are broadcast to every stream from ``events()``.
    ///
    /// Thread safety: the client is `Sendable`. Its mutable state (the protocol state machine,
    /// waiting calls, event subscribers) sits behind one `Mutex` in an internal connection
    /// object; NIO's channel handlers do the framing and JSON decoding on the channel's event
    /// loop and report into that object. Continuations are resumed only after the lock is
    /// released.
    ///
    /// Lifetime: when the connection ends (QEMU closes or exits, a fatal framing error, or
    /// ``close()``) every waiting call fails at once, with ``QMP/Error/disconnected`` (or
    /// ``QMP/Error/lineTooLong`` for that cause), event streams finish and ``waitClosed()``
    /// returns. Dropping the last reference to a client closes its connection.
    ///
    /// Calls are bounded by their timeout, not by task cancellation: a cancelled task's call
    /// still waits for its reply, its timeout, or the connection's end.
    public final class Client: Sendable {
        let connection: QMPConnection
        /// QEMU's greeting: its version and the capabilities it offered.
        public let greeting: QMP.Greeting
        /// The event loop of the connection's channel: replies, timeouts and events are handled
        /// there. Channels served on it, and calls made from it, reach QEMU without a thread hop.
        package let eventLoop: any EventLoop

        private init(connection: QMPConnection, greeting: QMP.Greeting, eventLoop: any EventLoop) {
            self.connection = connection
            self.greeting = greeting
            self.eventLoop = eventLoop
        }

        deinit {
            connection.close()
        }

        /// Connects to a QMP UNIX socket at `unixPath`, reads the greeting and sends
        /// `qmp_capabilities`.
        ///
        /// - Parameter timeout: for the whole of connecting, greeting and negotiation.
        /// - Throws: ``QMP/Error/connectFailed(path:errno:)`` when the socket cannot be
        ///   connected (ENAMETOOLONG for a path of 108 bytes or more), ``QMP/Error/greetingMissing``,
        ///   ``QMP/Error/timeout(command:)`` (`greeting` or `qmp_capabilities`), or what went
        ///   wrong in negotiation.
        ///
        /// With `pipelined`, it returns once the greeting is read and `qmp_capabilities` sent:
        /// commands issued before QEMU answers that follow it on the wire and are answered in
        /// order (a refused negotiation closes the connection and fails them). A QEMU that is
        /// still starting greets early but answers only once its main loop runs (tens of ms
        /// later under TCG), so a start sets up meanwhile.
        public static func connect(
            unixPath: String, timeout: Duration = .seconds(10), pipelined: Bool = false
        ) async throws(QMP.Error) -> Client {
            try await connect(describedAs: unixPath, timeout: timeout, pipelined: pipelined) { bootstrap in
                bootstrap.connect(unixDomainSocketPath: unixPath)
            }
        }

        /// Connects over an already connected stream socket `fd`, which the client takes over
        /// (it is closed with the connection, also when connecting fails after NIO took it).
        public static func connect(
            connectedSocket fd: Int32, timeout: Duration = .seconds(10)
        ) async throws(QMP.Error) -> Client {
            try await connect(describedAs: "fd \(fd)", timeout: timeout) { bootstrap in
                bootstrap.withConnectedSocket(fd)
            }
        }

        private static func connect(
            describedAs endpoint: String,
            timeout: Duration,
            pipelined: Bool = false,
            _ open: (ClientBootstrap) -> EventLoopFuture<Channel>
        ) async throws(QMP.Error) -> Client {
            let deadline = NIODeadline.now() + TimeAmount(timeout)
            let connection = QMPConnection(pipelinesNegotiation: pipelined)
            let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(TimeAmount(timeout))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        connection.attach(channel)
                        try channel.pipeline.syncOperations.addHandlers([
                            ByteToMessageHandler(QMPLineDecoder()),
                            MessageToByteHandler(QMPMessageEncoder()),
                            QMPMessageHandler(connection: connection),
                        ])
                    }
                }
            let channel: Channel
            do {
                channel = try await open(bootstrap).get()
            } catch {
                throw .connectFailed(path: endpoint, errno: errnoCode(of: error))
            }
            switch await connection.handshake(deadline: deadline) {
            case .success(let greeting):
                return Client(connection: connection, greeting: greeting, eventLoop: channel.eventLoop)
            case .failure(let error):
                connection.close()
                throw error
            }
        }

        private static func errnoCode(of error: any Swift.Error) -> Int32 {
            if let error = error as? IOError { return error.errnoCode }
            if let error = error as? SocketAddressError, case .unixDomainSocketPathTooLong = error {
                return ENAMETOOLONG
            }
            if error is ChannelError { return ETIMEDOUT }
            return EIO
        }

        /// Runs `command` with `arguments` (an object, or nil for none) and returns the
        /// reply's `return` value.
        ///
        /// - Throws: ``QMP/Error/commandFailed(class:description:)`` when QEMU answers with an
        ///   error, ``QMP/Error/timeout(command:)`` when no reply comes within `timeout` (a
        ///   reply arriving later is dropped), ``QMP/Error/disconnected`` when the connection
        ///   is or becomes closed.
        public func execute(
            _ command: String, arguments: QMP.Value? = nil, timeout: Duration = .seconds(30)
        ) async throws(QMP.Error) -> QMP.Value {
            try await connection.call(timeout: timeout) { machine, call in
                machine.startCommand(command, arguments: arguments, waiter: call)
            }.get()
        }

        /// Sends a command object as given and returns QEMU's whole reply object unchanged
        /// (`return` or `error` alike), for passing a monitor through.
        ///
        /// The object's `id` is replaced by the client's own on the wire and put back in the
        /// reply (left out when the command had none). A command that is not an object fails
        /// with ``QMP/Error/commandFailed(class:description:)`` as QEMU would answer it.
        ///
        /// - Throws: ``QMP/Error/timeout(command:)`` or ``QMP/Error/disconnected``; never
        ///   `commandFailed` for a reply, which is returned instead.
        public func executeRaw(_ command: QMP.Value, timeout: Duration = .seconds(30)) async throws(QMP.Error) -> QMP.Value {
            try await connection.call(timeout: timeout) { machine, call in
                machine.startRaw(command, waiter: call)
            }.get()
        }

        /// ``execute(_:arguments:timeout:)`` without a task: `onReply` gets its result once, on
        /// ``eventLoop`` for a reply, a timeout or the connection's end, or on the calling
        /// thread when the command cannot be sent at all (the connection is closed). Called on
        /// ``eventLoop``, nothing leaves that thread (for passing a monitor through).
        package func execute(
            _ command: String, arguments: QMP.Value? = nil, timeout: Duration = .seconds(30),
            onReply: @escaping @Sendable (Result<QMP.Value, QMP.Error>) -> Void
        ) {
            connection.call(timeout: timeout, reply: .callback(onReply)) { machine, call in
                machine.startCommand(command, arguments: arguments, waiter: call)
            }
        }

        /// ``executeRaw(_:timeout:)`` without a task: `onReply` gets its result as in
        /// ``execute(_:arguments:timeout:onReply:)``.
        package func executeRaw(
            _ command: QMP.Value, timeout: Duration = .seconds(30),
            onReply: @escaping @Sendable (Result<QMP.Value, QMP.Error>) -> Void
        ) {
            connection.call(timeout: timeout, reply: .callback(onReply)) { machine, call in
                machine.startRaw(command, waiter: call)
            }
        }

        /// Runs an HMP command line through `human-monitor-command` and returns the text it
        /// printed (often ending in "\r\n"; empty for silent commands).
        public func human(_ commandLine: String, timeout: Duration = .seconds(30)) async throws(QMP.Error) -> String {
            let output = try await execute(
                "human-monitor-command", arguments: ["command-line": .string(commandLine)], timeout: timeout)
            guard let text = output.string else { throw .malformed(raw: output.jsonString) }
            return text
        }

        /// Every event from now on, for this caller alone: each call returns a new stream that
        /// gets all events in QEMU's order, buffered without limit until read. Events from
        /// before the call are not replayed. The stream finishes when the connection closes
        /// (at once if it already has); ending its iteration unsubscribes.
        public func events() -> AsyncStream<QMP.Event> {
            connection.events()
        }

        /// Returns once the connection is closed, by either side.
        public func waitClosed() async {
            await connection.waitClosed()
        }

        /// Whether the connection is open and ready for commands.
        public var isConnected: Bool { connection.isConnected }

        /// Closes the connection: waiting calls fail with ``QMP/Error/disconnected``, event
        /// streams finish. Returns when the socket is closed. Does nothing more when closed.
        public func close() async {
            guard let channel = connection.close() else { return }
            try? await channel.closeFuture.get()
        }
    }
}
