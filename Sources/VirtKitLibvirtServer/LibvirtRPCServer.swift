import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import SystemPackage
import VirtKitHost
import VirtKitRuntime

/// virtkitd's second front door: libvirt's RPC protocol on a UNIX socket, so virsh,
/// python-libvirt and other libvirt clients (`qemu+unix:///session?socket=PATH`, or over ssh)
/// drive the same runtime as the HTTP API. The socket is 0600 (0660 with a group) and every
/// connection passes the daemon's peer check before a byte is read.
public struct LibvirtRPCServer: Service {
    /// Says whether a connection may go on: nil to admit it, else why not (the daemon's peer gate).
    public typealias Admission = @Sendable (any Channel) -> EventLoopFuture<String?>

    let socketPath: FilePath
    let group: gid_t?
    let dispatcher: LibvirtDispatcher
    let admit: Admission
    let logger: Logger

    public init(socketPath: FilePath, group: gid_t?, hypervisor: Hypervisor, logger: Logger, admit: @escaping Admission) {
        self.socketPath = socketPath
        self.group = group
        self.dispatcher = LibvirtDispatcher(hypervisor: hypervisor, host: HostFacts(), logger: logger)
        self.admit = admit
        self.logger = logger
    }

    public func run() async throws {
        let connection = LibvirtConnection(dispatcher: dispatcher, logger: logger)
        // The listener now, and whether the daemon is stopping: the shutdown handler runs apart.
        let current = Mutex<(server: NIOAsyncChannel<NIOAsyncChannel<[UInt8], ByteBuffer>?, Never>?, stopping: Bool)>((nil, false))
        defer { UnixSocket.remove(at: socketPath) }
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { tasks in
                while !current.withLock({ $0.stopping }) {
                    // A first listen that fails stops the daemon, with the reason; later ones retry.
                    let server = try await listen()
                    let stopping = current.withLock { state in
                        state.server = server
                        return state.stopping
                    }
                    if stopping { server.channel.close(promise: nil) }
                    do {
                        try await server.executeThenClose { clients in
                            for try await client in clients {
                                guard let client else { continue }
                                tasks.addTask { await connection.serve(client) }
                            }
                        }
                    } catch {
                        // An accept error (EMFILE, ...) ends NIO's stream of clients: serve on
                        // a new listener rather than take the daemon down with it.
                        logger.error("the libvirt socket stopped accepting; listening anew", metadata: ["error": "\(error)"])
                        try await Task.sleep(for: .milliseconds(200))
                    }
                }
                // The listener is closed (the daemon is stopping): its clients go too.
                tasks.cancelAll()
            }
        } onGracefulShutdown: {
            let server = current.withLock { state in
                state.stopping = true
                return state.server
            }
            server?.channel.close(promise: nil)
        }
    }

    /// Listens on the socket path (replacing a dead socket file, refusing a live one). Each
    /// connection is admitted by the peer check first; the initializer never fails, since a
    /// failure would end the whole stream of clients.
    private func listen() async throws -> NIOAsyncChannel<NIOAsyncChannel<[UInt8], ByteBuffer>?, Never> {
        let descriptor = try UnixSocket.listen(at: socketPath, mode: [.ownerReadWrite], backlog: 64)
        if let group { try UnixSocket.share(socketPath, withGroup: group) }
        let admit = self.admit
        let logger = self.logger
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(descriptor.rawValue) { channel in
                admit(channel).map { refusal -> NIOAsyncChannel<[UInt8], ByteBuffer>? in
                    if let refusal {
                        logger.notice("refused a libvirt client", metadata: ["reason": "\(refusal)"])
                        channel.close(promise: nil)
                        return nil
                    }
                    do {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RPCFrameDecoder()))
                        return try NIOAsyncChannel(wrappingChannelSynchronously: channel)
                    } catch {
                        // The client went before it was admitted.
                        channel.close(promise: nil)
                        return nil
                    }
                }
            }
        logger.info("serving libvirt's RPC protocol", metadata: ["socket": "\(socketPath)"])
        return server
    }
}
