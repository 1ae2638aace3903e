import NIOCore
import VirtKitLibvirtRPC

/// Splits libvirt's byte stream into packets: a 4-byte length that counts itself, then that
/// many bytes less four. A length below a header's or above libvirt's limit cannot be
/// resynchronised, so the connection is closed, as libvirtd closes it.
struct RPCFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = [UInt8]

    struct BadLength: Error, CustomStringConvertible {
        var length: UInt32
        var description: String { "libvirt RPC packet length \(length) is outside 28...\(RPCLimits.messageMax)" }
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return .needMoreData }
        guard RPCPacket.isAcceptable(length: length) else { throw BadLength(length: length) }
        guard buffer.readableBytes >= Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        guard let body = buffer.readBytes(length: Int(length) - 4) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(body))
        return .continue
    }
}
