import NIOCore

/// What ``MonitorFrameDecoder`` passes on.
enum MonitorFrame {
    /// A command line, without its line end.
    case line([UInt8])
    /// A line passed the limit; nothing more follows.
    case tooLong
    /// The client closed its sending side (after any unfinished last line).
    case inputClosed
}

/// Frames a monitor client's bytes into lines with ``MonitorLineFramer`` (telnet negotiation
/// removed, any of the usual line ends), on the channel's event loop.
///
/// The channel must allow remote half-closure: on `inputClosed` an unfinished last line is
/// passed on as a line, then ``MonitorFrame/inputClosed``, so a client that sends a command
/// without a newline and shuts down its side still gets its answer.
final class MonitorFrameDecoder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = MonitorFrame

    private var framer: MonitorLineFramer
    private var ended = false

    init(maxLineLength: Int) {
        framer = MonitorLineFramer(maxLineLength: maxLineLength)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = Self.unwrapInboundIn(data)
        forward(framer.feed(buffer.readableBytesView), context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed, !ended {
            ended = true
            forward(framer.finish(), context: context)
            context.fireChannelRead(Self.wrapInboundOut(.inputClosed))
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func forward(_ outputs: [MonitorLineFramer.Output], context: ChannelHandlerContext) {
        for output in outputs {
            switch output {
            case .line(let line): context.fireChannelRead(Self.wrapInboundOut(.line(line)))
            case .tooLong: context.fireChannelRead(Self.wrapInboundOut(.tooLong))
            }
        }
    }
}
