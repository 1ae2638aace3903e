import Logging
import NIOCore
import VirtKitLibvirtRPC
import VirtKitXDR

/// One client of the libvirt socket: reads packets, lets ``RPCConnectionState`` say what each
/// is, runs calls (several at once, as libvirtd does, so a PING is answered while a start
/// runs), writes the replies. At most ``maxCallsInFlight`` calls run at a time; past that the
/// connection stops reading, and a client that never reads its replies stops being read once
/// the channel's outbound buffer is full, so neither grows the daemon.
struct LibvirtConnection {
    /// libvirtd's max_client_requests default.
    static let maxCallsInFlight = 5

    let dispatcher: LibvirtDispatcher
    let logger: Logger

    func serve(_ channel: NIOAsyncChannel<[UInt8], ByteBuffer>) async {
        do {
            try await channel.executeThenClose { inbound, outbound in
                try await run(inbound, outbound)
            }
        } catch {
            logger.debug("libvirt client connection ended", metadata: ["error": "\(error)"])
        }
    }

    private func run(_ inbound: NIOAsyncChannelInboundStream<[UInt8]>, _ outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws {
        var state = RPCConnectionState()
        try await withThrowingTaskGroup(of: Void.self) { group in
            var inFlight = 0
            for try await body in inbound {
                let packet: RPCPacket
                switch Result(catching: { () throws(RPCHeaderError) in try RPCPacket.decode(body) }) {
                case .success(let decoded):
                    packet = decoded
                case let .failure(.invalid(program, version, procedure, serial, reason)):
                    let header = RPCHeader(program: program, version: version, procedure: procedure, type: .reply, serial: serial, status: .error)
                    try await outbound.write(Self.errorPacket(header, RemoteError(code: RemoteError.Number.rpc, domain: RemoteError.Source.rpc, message: reason)))
                    continue
                case .failure(.truncated):
                    return  // shorter than a header: nothing to answer
                }
                switch state.receive(packet.header) {
                case .ignore:
                    continue
                case .pong:
                    let pong = RPCHeader(program: RPCProgram.keepalive, version: RPCProgram.version,
                                         procedure: KeepaliveProcedure.pong.rawValue, type: .message, serial: 0, status: .ok)
                    try await outbound.write(ByteBuffer(bytes: RPCPacket(header: pong).bytes))
                case .replyError(let header, let error):
                    try await outbound.write(Self.errorPacket(header, error))
                case .close(let reason):
                    logger.info("closing a libvirt client", metadata: ["reason": "\(reason)"])
                    group.cancelAll()
                    return
                case .dispatch(let call):
                    // Open and close change the connection's state: answered in order.
                    if case .remote(let procedure, _) = call, procedure == .connectOpen || procedure == .connectClose {
                        while inFlight > 0, try await group.next() != nil { inFlight -= 1 }
                        let reply = await dispatcher.answer(call, payload: packet.payload)
                        try await outbound.write(ByteBuffer(bytes: reply.bytes))
                        guard reply.header.status == .ok else { continue }
                        if procedure == .connectOpen { state.opened() } else { state.closed() }
                        continue
                    }
                    if inFlight >= Self.maxCallsInFlight, try await group.next() != nil { inFlight -= 1 }
                    inFlight += 1
                    group.addTask {
                        let reply = await dispatcher.answer(call, payload: packet.payload)
                        try await outbound.write(ByteBuffer(bytes: reply.bytes))
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    static func errorPacket(_ header: RPCHeader, _ error: RemoteError) -> ByteBuffer {
        var writer = XDRWriter()
        error.encode(to: &writer)
        return ByteBuffer(bytes: RPCPacket(header: header, payload: writer.bytes).bytes)
    }
}
