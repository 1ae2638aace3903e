import NIOCore
import NIOPosix
import SystemPackage

extension ChardevBroker {
    /// Serves one client over a connected socket (a UNIX-socket connection, or an HTTP
    /// connection the daemon upgraded): guest output to the socket, the socket's bytes to
    /// the guest, until either side ends. Returns when the socket is closed.
    ///
    /// Gaps, a lost pen and the close are written into the byte stream as visible lines
    /// (``BrokerOutput/terminalBytes``), e.g. `\r\n[virtkit: 12345 bytes skipped]\r\n`. Input
    /// the pen rules refuse is dropped with one notice line per refused run. A refused attach
    /// (``BrokerError/consoleInUse(console:)`` and the like) writes `virtkit: MESSAGE` and
    /// closes. The session ends when the console closes, the socket fails, or the client
    /// shuts its sending side (a read-only client keeps receiving after that).
    ///
    /// The broker owns `socket` from this call on.
    public func serve(connectedSocket socket: SystemPackage.FileDescriptor, mode: ClientMode, label: String? = nil) async {
        let client: BrokerClient
        do {
            client = try await attach(mode, label: label)
        } catch {
            _ = try? socket.writeAll(Array("virtkit: \(error)\r\n".utf8))
            try? socket.close()
            return
        }
        let link = brokerLink
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: link.eventLoop)
                .channelOption(.allowRemoteHalfClosure, value: true)
                .withConnectedSocket(socket.rawValue) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        guard link.core.value.register(served: channel) else { throw BrokerError.stopped(console: link.console) }
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            // NIO owns (and has closed) the socket whether or not the bootstrap succeeded.
            await client.detach()
            return
        }
        try? await channel.executeThenClose { inbound, outbound in
            await Self.session(client: client, inbound: inbound, outbound: outbound)
        }
        let served = channel.channel
        try? await link.eventLoop.submit { link.core.value.unregister(served: served) }.get()
        await client.detach()
    }

    /// How one side of a served session ended.
    private enum SessionEnd {
        case consoleClosed
        case outputFailed
        case inputEnded
    }

    /// Pumps both ways until the console closes, the socket fails, or a writing client's
    /// input ends.
    private static func session(
        client: BrokerClient, inbound: NIOAsyncChannelInboundStream<ByteBuffer>,
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    ) async {
        await withTaskGroup(of: SessionEnd.self) { group in
            group.addTask {
                for await output in client.output {
                    do {
                        try await outbound.write(ByteBuffer(bytes: output.terminalBytes))
                    } catch {
                        return .outputFailed
                    }
                    if case .closed = output { return .consoleClosed }
                }
                return .consoleClosed
            }
            group.addTask {
                var refused = false
                do {
                    for try await buffer in inbound {
                        do {
                            try await client.write(Array(buffer.readableBytesView))
                            refused = false
                        } catch {
                            guard !refused else { continue }
                            refused = true
                            try? await outbound.write(ByteBuffer(bytes: BrokerOutput.notice("\(error)")))
                        }
                    }
                } catch {
                    // A read error ends the input like EOF does.
                }
                return .inputEnded
            }
            while let end = await group.next() {
                // An observer that shut its sending side still wants output.
                if end == .inputEnded, !client.mode.mayWrite { continue }
                break
            }
            group.cancelAll()
        }
    }
}
