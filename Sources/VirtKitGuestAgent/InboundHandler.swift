import NIOCore
import VirtKitJSON

/// Decodes each framed line as JSON and hands it, and each sentinel, to the connection;
/// reports the channel's end there too. Runs on the channel's event loop like every handler.
final class GuestAgentInboundHandler: ChannelInboundHandler {
    typealias InboundIn = GuestAgentFrame

    private let connection: GuestAgentConnection

    init(connection: GuestAgentConnection) {
        self.connection = connection
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .sentinel:
            connection.receivedSentinel()
        case .line(let line):
            do throws(JSONParser.Failure) {
                connection.received(try JSONValue(parsing: line.readableBytesView))
            } catch {
                connection.receivedMalformed(raw: GuestAgent.Error.excerpt(line.readableBytesView))
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection.channelClosed()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A line over the limit or a read error: the connection cannot recover its framing.
        context.close(promise: nil)
    }
}
