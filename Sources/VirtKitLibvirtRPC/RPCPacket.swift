import VirtKitXDR

/// One libvirt RPC packet: a 4-byte length (counting itself), the header, the XDR payload.
public struct RPCPacket: Equatable, Sendable {
    public var header: RPCHeader
    public var payload: [UInt8]

    public init(header: RPCHeader, payload: [UInt8] = []) {
        self.header = header
        self.payload = payload
    }

    /// An error answer: `header` (a reply or stream header with status ERROR) and the error.
    public init(header: RPCHeader, error: RemoteError) {
        var writer = XDRWriter()
        error.encode(to: &writer)
        self.init(header: header, payload: writer.bytes)
    }

    /// The bytes on the wire, length first.
    public var bytes: [UInt8] {
        var writer = XDRWriter(reservingCapacity: 4 + RPCHeader.size + payload.count)
        writer.write(UInt32(4 + RPCHeader.size + payload.count))
        header.encode(to: &writer)
        writer.writeRaw(payload)
        return writer.bytes
    }

    /// A packet from its bytes after the length word.
    public static func decode(_ body: [UInt8]) throws(RPCHeaderError) -> RPCPacket {
        var reader = XDRReader(body)
        let header = try RPCHeader.decode(from: &reader)
        return RPCPacket(header: header, payload: Array(body[reader.offset...]))
    }

    /// Whether a packet's length word is one libvirt accepts: at least the length and a header,
    /// at most ``RPCLimits/messageMax``.
    public static func isAcceptable(length: UInt32) -> Bool {
        length >= UInt32(4 + RPCHeader.size) && length <= UInt32(RPCLimits.messageMax)
    }
}
