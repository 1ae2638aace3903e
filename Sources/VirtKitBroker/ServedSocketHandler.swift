import NIOCore

/// A served socket's client, run entirely on the broker's event loop: guest output is written
/// to the socket by the broker itself as it arrives (``BrokerCore/pump(_:)``), as far as the
/// socket takes it, and the rest waits in the client's bounded queue until the socket is
/// writable again; the client's bytes go to the guest one read at a time (the next read is
/// asked for once QEMU's side took the last one, so a slow guest slows only its typists).
///
/// The session's rules are those of ``ChardevBroker/serve(connectedSocket:mode:label:)``:
/// refused input gets one notice line per refused run (consoles), a writer that shuts its
/// sending side gives up the pen and is closed after ``ChardevBroker/Configuration/halfCloseLinger``,
/// an observer keeps receiving.
final class ServedSocketHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let core: BrokerCore
    private let id: Int
    private let mode: ClientMode
    private var refused = false

    init(core: BrokerCore, id: Int, mode: ClientMode) {
        self.core = core
        self.id = id
        self.mode = mode
    }

    func channelActive(context: ChannelHandlerContext) {
        context.read()
        core.pump(id)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = Array(unwrapInboundIn(data).readableBytesView)
        let channel = context.channel
        let inBand = core.configuration.inBandNotices
        // The write completes on this loop: the handler is only touched there.
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        core.write(id, bytes).whenComplete { result in
            switch result {
            case .success:
                handler.value.refused = false
            case .failure(let error):
                if !handler.value.refused, inBand {
                    channel.writeAndFlush(ByteBuffer(bytes: BrokerOutput.notice("\(error)")), promise: nil)
                }
                handler.value.refused = true
            }
            channel.read()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { core.pump(id) }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed, mode.mayWrite {
            // It will not type again: the pen is free for others; the answers to what it sent
            // still reach it for the linger period.
            core.releasePen(id)
            let channel = context.channel
            context.eventLoop.scheduleTask(in: TimeAmount(core.configuration.halfCloseLinger)) {
                channel.close(promise: nil)
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        core.detach(id)
        core.unregister(served: context.channel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension ServedSocketHandler: Sendable {}

/// A served socket the pen rules refused: told why once it is up, then closed.
final class RefusalHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let message: String

    init(message: String) {
        self.message = message
    }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        channel.writeAndFlush(ByteBuffer(string: message)).whenComplete { _ in channel.close(promise: nil) }
        context.fireChannelActive()
    }
}

@available(*, unavailable)
extension RefusalHandler: Sendable {}
