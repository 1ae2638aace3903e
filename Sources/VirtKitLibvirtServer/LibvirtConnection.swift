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
        let session = LibvirtSession(dispatcher: dispatcher, outbound: outbound)
        defer { Task { await session.end() } }
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
                logger.trace("libvirt packet", metadata: ["program": "\(packet.header.program)", "procedure": "\(packet.header.procedure)",
                                                          "type": "\(packet.header.type)", "serial": "\(packet.header.serial)"])
                switch state.receive(packet.header) {
                case .ignore:
                    continue
                case .pong:
                    try await outbound.write(ByteBuffer(bytes: RPCPacket(header: Self.pong).bytes))
                case .replyError(let header, let error):
                    try await outbound.write(Self.errorPacket(header, error))
                case .stream(let header):
                    await session.streamPacket(header, packet.payload)
                case .close(let reason):
                    logger.info("closing a libvirt client", metadata: ["reason": "\(reason)"])
                    group.cancelAll()
                    return
                case .dispatch(let call):
                    if case .remote(let procedure, let header) = call, Self.inOrder.contains(procedure) {
                        // These change the connection's state: answered in order, after every call before them.
                        while inFlight > 0, try await group.next() != nil { inFlight -= 1 }
                        try await answerInOrder(procedure, header, packet.payload, &state, session, outbound)
                        continue
                    }
                    if case .remote(let procedure, _) = call, procedure.isQuickRead {
                        // A read of what the daemon holds: a task of its own would cost more than the call.
                        let reply = await dispatcher.answer(call, payload: packet.payload)
                        try await outbound.write(ByteBuffer(bytes: reply.bytes))
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

    /// The procedures that change what the connection holds.
    static let inOrder: Set<RemoteProcedure> = [.connectOpen, .connectClose, .domainOpenConsole, .domainOpenChannel,
                                                 .connectDomainEventCallbackRegisterAny, .connectDomainEventCallbackDeregisterAny]

    private func answerInOrder(_ procedure: RemoteProcedure, _ header: RPCHeader, _ payload: [UInt8], _ state: inout RPCConnectionState,
                               _ session: LibvirtSession, _ outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws {
        var args = XDRReader(payload)
        let result: Result<[UInt8], any Error>
        do {
            switch procedure {
            case .domainOpenConsole, .domainOpenChannel:
                result = .success(try await session.openStream(header, channel: procedure == .domainOpenChannel, &args))
            case .connectDomainEventCallbackRegisterAny: result = .success(try await session.register(&args))
            case .connectDomainEventCallbackDeregisterAny: result = .success(try await session.deregister(&args))
            default: result = .success(try await dispatcher.remote(procedure, &args))
            }
        } catch {
            result = .failure(error)
        }
        switch result {
        case .success(let bytes):
            try await outbound.write(ByteBuffer(bytes: RPCPacket(header: header.reply(.ok), payload: bytes).bytes))
            switch procedure {
            case .connectOpen: state.opened()
            case .connectClose: state.closed()
            case .domainOpenConsole, .domainOpenChannel:
                state.streamOpened(header.serial)
                await session.startStream(header)
            default: break
            }
        case .failure(let error):
            try await outbound.write(Self.errorPacket(header.reply(.error), LibvirtDispatcher.remoteError(error, procedure: header.procedure)))
        }
    }

    static let pong = RPCHeader(program: RPCProgram.keepalive, version: RPCProgram.version,
                                procedure: KeepaliveProcedure.pong.rawValue, type: .message, serial: 0, status: .ok)

    static func errorPacket(_ header: RPCHeader, _ error: RemoteError) -> ByteBuffer {
        ByteBuffer(bytes: RPCPacket(header: header, error: error).bytes)
    }
}
