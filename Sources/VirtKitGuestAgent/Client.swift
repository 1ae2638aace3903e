import NIOCore
import NIOPosix
import VirtKitJSON

extension GuestAgent {
    /// A connection to one guest's QEMU guest agent (qemu-ga), over the host side of its
    /// `org.qemu.guest_agent.0` virtio-serial port.
    ///
    /// Calls go to the agent one at a time, in the order they were made (the agent has no ids
    /// to match replies by); a call waits for its turn at most as long as its timeout. Before a
    /// command, when the channel may be out of sync (at first, and after any timeout, command
    /// sent without waiting, or stray reply), the client sends a 0xFF byte and
    /// `guest-sync-delimited` with a fresh random id and drops everything the agent sends until
    /// the 0xFF sentinel and that id come back, so a late reply to an earlier call is never
    /// taken for this one (qemu-ga answers the 0xFF itself with a JSON parse error, dropped
    /// with the rest). An agent that does not know `guest-sync-delimited` is synced with
    /// `guest-sync` from then on.
    ///
    /// Thread safety: the client is `Sendable`. Its mutable state (the protocol state machine,
    /// the gate, the waiting call) sits behind one `Mutex` in an internal connection object;
    /// NIO's channel handlers do the framing and JSON decoding on the channel's event loop and
    /// report into that object. Continuations are resumed only after the lock is released.
    ///
    /// Lifetime: when the connection ends (QEMU closes the chardev or exits, or ``close()``) the
    /// waiting call fails with ``GuestAgent/Error/disconnected`` and later calls with
    /// ``GuestAgent/Error/notConnected``. Dropping the last reference closes the connection.
    /// Calls are bounded by their timeout, not by task cancellation.
    public final class Client: Sendable {
        /// What ``Timeout/default`` waits, in seconds (libvirt's `QEMU_AGENT_WAIT_TIME`).
        public static let defaultTimeoutSeconds = 5
        /// The commands qemu-ga answers only when they fail.
        public static let commandsWithoutSuccessReply: Set<String> = [
            "guest-shutdown", "guest-suspend-disk", "guest-suspend-ram", "guest-suspend-hybrid",
        ]
        /// How long a command from ``commandsWithoutSuccessReply`` waits for an error before it
        /// counts as done (less when its timeout is shorter).
        public static let errorGracePeriod: Duration = .seconds(2)

        let connection: GuestAgentConnection
        /// What ``Timeout/default`` waits for this client (libvirt's per-domain agent response
        /// timeout, `virDomainAgentSetResponseTimeout`).
        public let responseTimeout: Duration

        private init(connection: GuestAgentConnection, responseTimeout: Duration) {
            self.connection = connection
            self.responseTimeout = responseTimeout
        }

        deinit {
            connection.close()
        }

        /// Talks to the agent over `fd`, an already connected stream socket (the host side of
        /// the agent's chardev), which the client takes over: it is closed with the connection.
        ///
        /// - Throws: ``GuestAgent/Error/notConnected`` when `fd` cannot be used.
        public static func attach(connectedSocket fd: Int32,
                                  responseTimeout: Duration = .seconds(defaultTimeoutSeconds)) async throws(GuestAgent.Error) -> Client {
            try await open(responseTimeout: responseTimeout) { $0.withConnectedSocket(fd) }
        }

        /// Connects to the agent's chardev listening on the UNIX socket at `unixPath`.
        ///
        /// - Throws: ``GuestAgent/Error/notConnected`` when nothing accepts there (no such
        ///   socket, refused, a path of 108 bytes or more).
        public static func connect(unixPath: String,
                                   responseTimeout: Duration = .seconds(defaultTimeoutSeconds)) async throws(GuestAgent.Error) -> Client {
            try await open(responseTimeout: responseTimeout) { $0.connect(unixDomainSocketPath: unixPath) }
        }

        private static func open(responseTimeout: Duration,
                                 _ connect: (ClientBootstrap) -> EventLoopFuture<Channel>) async throws(GuestAgent.Error) -> Client {
            let connection = GuestAgentConnection()
            let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(Int64(defaultTimeoutSeconds)))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        connection.attach(channel)
                        try channel.pipeline.syncOperations.addHandlers([
                            ByteToMessageHandler(GuestAgentFrameDecoder()),
                            GuestAgentInboundHandler(connection: connection),
                        ])
                    }
                }
            do {
                _ = try await connect(bootstrap).get()
            } catch {
                connection.close()
                throw .notConnected
            }
            return Client(connection: connection, responseTimeout: responseTimeout)
        }

        /// Whether the connection is open (which says nothing of whether an agent runs in the
        /// guest: only a command tells that).
        public var isConnected: Bool { connection.isConnected }

        /// Runs `command` with `arguments` (an object, or nil for none), syncing first if
        /// needed, and returns the reply's `return` value.
        ///
        /// With ``Timeout/noWait``, and for ``commandsWithoutSuccessReply`` that did not fail,
        /// there is no reply and the result is `null`.
        ///
        /// - Throws: ``GuestAgent/Error/commandFailed(command:class:description:)`` when the
        ///   agent answers with an error, ``GuestAgent/Error/timedOut(command:)``,
        ///   ``GuestAgent/Error/notConnected``, ``GuestAgent/Error/disconnected``, or
        ///   ``GuestAgent/Error/malformed(raw:)`` for a reply that is neither.
        public func execute(
            _ command: String, arguments: JSONValue? = nil, timeout: Timeout = .default
        ) async throws(GuestAgent.Error) -> JSONValue {
            var message: JSONValue.Object = ["execute": .string(command)]
            if let arguments { message["arguments"] = arguments }
            guard let reply = try await perform(command, bytes: JSONValue.object(message).jsonBytes, timeout: timeout) else {
                return .null
            }
            try Self.checkError(reply, command: command)
            return reply["return"] ?? .null
        }

        /// Sends a command given as JSON text (`{"execute": ..., "arguments": ...}`) and returns
        /// the agent's whole reply object as compact JSON (`{"return":{}}`), as
        /// `virsh qemu-agent-command` prints it; an empty string when no reply is waited for
        /// (``Timeout/noWait``, or a command from ``commandsWithoutSuccessReply`` that did not fail).
        ///
        /// - Throws: ``GuestAgent/Error/malformed(raw:)`` when `json` is not JSON (nothing is
        ///   sent); for an `error` reply ``GuestAgent/Error/commandFailed(command:class:description:)``
        ///   as libvirt does; otherwise as ``execute(_:arguments:timeout:)``.
        public func executeRaw(json: String, timeout: Timeout = .default) async throws(GuestAgent.Error) -> String {
            let message: JSONValue
            do {
                message = try JSONValue(parsing: json.utf8)
            } catch {
                throw .malformed(raw: GuestAgent.Error.excerpt(json.utf8))
            }
            let command = message["execute"]?.string ?? "<unknown>"
            guard let reply = try await perform(command, bytes: message.jsonBytes, timeout: timeout) else { return "" }
            try Self.checkError(reply, command: command)
            return reply.jsonString
        }

        /// Closes the connection: a waiting call fails with ``GuestAgent/Error/disconnected``,
        /// later ones with ``GuestAgent/Error/notConnected``. Returns when the socket is closed.
        public func close() async {
            guard let channel = connection.close() else { return }
            try? await channel.closeFuture.get()
        }

        // MARK: The exchange

        /// Takes this call's turn, syncs if needed and sends `bytes` (one command, without line
        /// ending); the reply object, or nil when none was waited for or none came.
        private func perform(_ command: String, bytes: [UInt8], timeout: Timeout) async throws(GuestAgent.Error) -> JSONValue? {
            guard await connection.beginTurn(wait: timeout.turnWait(default: responseTimeout)) else { throw .timedOut(command: command) }
            defer { connection.endTurn() }
            if connection.needsSync {
                try await synchronize(for: command, wait: timeout.syncWait(default: responseTimeout))
            }
            let line = bytes + [UInt8(ascii: "\n")]
            if timeout.replyWait(default: responseTimeout) == .zero {
                try await connection.send(line).get()
                return nil
            }
            let expectation: GuestAgentConnection.Machine.Expectation
            var wait = timeout.replyWait(default: responseTimeout)
            if Self.commandsWithoutSuccessReply.contains(command) {
                expectation = .errorOnly
                wait = min(wait ?? Self.errorGracePeriod, Self.errorGracePeriod)
            } else {
                expectation = .reply
            }
            switch await connection.exchange(expectation, command: command, bytes: line, wait: wait) {
            case .success(.reply(let reply)): return reply
            case .success: return nil
            case .failure(let error): throw error
            }
        }

        /// Brings the channel into sync: 0xFF, then `guest-sync-delimited` (or `guest-sync`)
        /// with a fresh id, dropping everything until its answer.
        private func synchronize(for command: String, wait: Duration) async throws(GuestAgent.Error) {
            while true {
                let delimited = !connection.plainSyncOnly
                let id = Int64.random(in: 1...(1 << 53))
                let sync: JSONValue = [
                    "execute": .string(delimited ? "guest-sync-delimited" : "guest-sync"), "arguments": ["id": .int(id)],
                ]
                let bytes = [0xFF] + sync.jsonBytes + [UInt8(ascii: "\n")]
                switch await connection.exchange(.sync(id: id, delimited: delimited), command: command, bytes: bytes, wait: wait) {
                case .success(.delimitedSyncUnknown): connection.plainSyncOnly = true
                case .success: return
                case .failure(let error): throw error
                }
            }
        }

        private static func checkError(_ reply: JSONValue, command: String) throws(GuestAgent.Error) {
            guard let error = reply["error"] else { return }
            let errorClass = error["class"]?.string ?? "GenericError"
            throw .commandFailed(command: command, class: errorClass, description: error["desc"]?.string ?? errorClass)
        }
    }
}
