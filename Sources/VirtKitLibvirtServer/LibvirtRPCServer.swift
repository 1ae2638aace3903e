import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
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
        let descriptor = try UnixSocket.listen(at: socketPath, mode: [.ownerReadWrite], backlog: 64)
        if let group { try UnixSocket.share(socketPath, withGroup: group) }
        defer { UnixSocket.remove(at: socketPath) }
        let admit = self.admit
        let logger = self.logger
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(descriptor.rawValue) { channel in
                admit(channel).flatMapThrowing { refusal -> NIOAsyncChannel<[UInt8], ByteBuffer>? in
                    if let refusal {
                        logger.notice("refused a libvirt client", metadata: ["reason": "\(refusal)"])
                        channel.close(promise: nil)
                        return nil
                    }
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RPCFrameDecoder()))
                    return try NIOAsyncChannel(wrappingChannelSynchronously: channel)
                }
            }
        logger.info("serving libvirt's RPC protocol", metadata: ["socket": "\(socketPath)"])
        let connection = LibvirtConnection(dispatcher: dispatcher, logger: logger)
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { tasks in
                try await server.executeThenClose { clients in
                    for try await client in clients {
                        guard let client else { continue }
                        tasks.addTask { await connection.serve(client) }
                    }
                }
                // The listener is closed (the daemon is stopping): its clients go too.
                tasks.cancelAll()
            }
        } onGracefulShutdown: {
            server.channel.close(promise: nil)
        }
    }
}
