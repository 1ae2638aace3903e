import NIOCore

/// Decodes each framed line as JSON and hands it to the connection; reports the channel's
/// end and its errors there too. Runs on the channel's event loop like every handler.
final class QMPMessageHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let connection: QMPConnection

    init(connection: QMPConnection) {
        self.connection = connection
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let line = unwrapInboundIn(data)
        let parsed: Result<QMP.Value, JSONParser.Failure> = line.withUnsafeReadableBytes { bytes in
            Result { () throws(JSONParser.Failure) in try JSONParser.parse(bytes) }
        }
        switch parsed {
        case .success(let message):
            connection.received(message)
        case .failure:
            connection.receivedMalformed(raw: QMP.Error.excerpt(line.readableBytesView))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection.channelClosed()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        connection.failed(error as? QMP.Error ?? .disconnected)
        context.close(promise: nil)
    }
}
