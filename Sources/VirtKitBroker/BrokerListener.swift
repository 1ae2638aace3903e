import NIOCore
import NIOPosix
import SystemPackage

/// A listening socket whose every connection becomes a client of one ``ChardevBroker``, all
/// in the same ``ClientMode``: the way a chardev's UNIX socket (or a console socket of one
/// mode) is offered to any number of `socat`, `nc` or `virtkit console` clients.
///
/// A connection the pen rules refuse reads `virtkit: MESSAGE` and is closed. Connections are
/// served on the broker's event loop; each is closed when it ends, when the broker stops, or
/// when the listener stops. ``stop()`` closes the listening socket (its file is the caller's).
public final class BrokerListener: Sendable {
    /// The mode every connection attaches in.
    public let mode: ClientMode
    private let server: Channel

    private init(mode: ClientMode, server: Channel) {
        self.mode = mode
        self.server = server
    }

    /// Stops accepting; connections already served go on until they or the broker end.
    public func stop() async {
        try? await server.close()
    }

    /// Serves every connection to `socket` (a bound, listening socket; the listener owns it
    /// from this call on, closed when this throws) as a client of `broker` in `mode`.
    public static func start(
        socket: SystemPackage.FileDescriptor, broker: ChardevBroker, mode: ClientMode
    ) async throws(BrokerError) -> BrokerListener {
        let link = broker.brokerLink
        do {
            let server = try await ServerBootstrap(group: link.eventLoop)
                .childChannelOption(.allowRemoteHalfClosure, value: true)
                .childChannelOption(.autoRead, value: false)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try ChardevBroker.serveOnLoop(channel, core: link.core.value, mode: mode, label: nil)
                    }
                }
                .withBoundSocket(socket.rawValue).get()
            return BrokerListener(mode: mode, server: server)
        } catch {
            // NIO has taken (and closed) the descriptor whether or not the bootstrap worked.
            let code = (error as? IOError).map { Errno(rawValue: $0.errnoCode) } ?? .ioError
            throw .peerSetupFailed(console: link.console, what: "listening for clients", errno: code)
        }
    }
}
