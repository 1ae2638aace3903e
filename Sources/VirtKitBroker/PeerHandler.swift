import NIOCore

/// The handler on QEMU's side of the chardev: hands every read to the broker as it comes
/// (no backpressure: the guest is never slowed by clients) and reports the hang-up.
final class PeerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let core: BrokerCore

    init(core: BrokerCore) {
        self.core = core
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        core.received(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        core.peerDidClose(error: nil)
        context.fireChannelInactive()
    }

    /// A read error (EIO from a pty whose other side closed, ECONNRESET) ends the console.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        core.peerDidClose(error: error)
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension PeerHandler: Sendable {}
