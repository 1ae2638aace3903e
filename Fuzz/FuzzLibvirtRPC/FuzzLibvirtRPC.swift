import FuzzReplay
import VirtKitLibvirtRPC
import VirtKitXDR

/// One input: a client's byte stream to virtkitd's libvirt socket. It is framed as the server
/// frames it (a length that counts itself, refused outside libvirt's limits), each packet's
/// header decoded and fed to the connection's state machine, and each call's payload read the
/// ways the dispatcher reads arguments (a domain, strings, optional strings, arrays, numbers),
/// with what was read written back and read again to the same value.
func fuzzLibvirtRPC(_ input: UnsafeRawBufferPointer) {
    var bytes = Array(input)[...]
    var state = RPCConnectionState()
    while bytes.count >= 4 {
        let length = bytes.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        guard RPCPacket.isAcceptable(length: length) else { return }  // the server closes
        guard bytes.count >= Int(length) else { return }
        let body = Array(bytes.dropFirst(4).prefix(Int(length) - 4))
        bytes = bytes.dropFirst(Int(length))
        guard let packet = try? RPCPacket.decode(body) else { continue }
        switch state.receive(packet.header) {
        case .dispatch:
            readArguments(packet.payload)
            if packet.header.procedure == 1 { state.opened() }
            if packet.header.procedure == 2 { state.closed() }
        case .close:
            return
        case .replyError(let header, let error):
            // The error reply must encode (every call gets an answer).
            _ = RPCPacket(header: header.reply(.error), error: error).bytes
        default:
            break
        }
    }
}

/// The argument shapes the dispatcher reads, each from the start of the payload.
func readArguments(_ payload: [UInt8]) {
    var reader = XDRReader(payload)
    if let domain = try? reader.readDomain() {
        var writer = XDRWriter()
        writer.write(domain)
        var again = XDRReader(writer.bytes)
        guard let back = try? again.readDomain(), back == domain else { fatalError("a domain does not read back: \(domain)") }
    }
    reader = XDRReader(payload)
    if let text = try? reader.readRemoteString() {
        var writer = XDRWriter()
        writer.write(text)
        var again = XDRReader(writer.bytes)
        guard (try? again.readRemoteString()) == text else { fatalError("a string does not read back") }
    }
    reader = XDRReader(payload)
    _ = try? reader.readOptionalRemoteString()
    _ = try? reader.read(UInt32.self)
    reader = XDRReader(payload)
    _ = try? reader.readArray(limit: 16384) { reader throws(XDRError) in try reader.read(Int32.self) }
    reader = XDRReader(payload)
    _ = try? reader.read(Int64.self)
    _ = try? reader.read(Bool.self)
    _ = try? reader.readOpaque(limit: RPCLimits.stringMax)
}

@main
struct Fuzz {
    static func main() throws {
        try FuzzReplay.main(fuzzLibvirtRPC)
    }
}
