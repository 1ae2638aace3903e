import Logging
import NIOCore
import NIOPosix
import NIOWebSocket
import SystemPackage
import VirtKitAPI
import VirtKitHost

/// Relays a WebSocket to a connected stream socket, both ways, until either side closes.
///
/// The client's data frames (binary or text, and the continuation frames of a fragmented message)
/// go to the socket as bytes, unmasked; bytes from the socket go to the client as binary frames,
/// as they arrive. Pings are answered with pongs. When the socket reaches end of file the client
/// gets a close frame (1000) and the connection ends; when the client sends a close frame or goes
/// away, its close is answered and the socket is closed. The socket can be anything that streams
/// bytes: a monitor channel today, a console or channel of the chardev broker tomorrow.
///
/// Nothing is shared: a relay owns its two channels and runs in the task that serves the
/// connection, its two directions in a task group (the first to finish cancels the other).
enum StreamRelay {
    /// Connects to the listening UNIX socket at `path` (any length: long paths go through the
    /// directory's descriptor) and wraps it for the relay, on `eventLoop`.
    static func connect(unixSocket path: FilePath, on eventLoop: any EventLoop) async throws(APIError)
        -> NIOAsyncChannel<ByteBuffer, ByteBuffer>
    {
        let descriptor: SystemPackage.FileDescriptor
        do { descriptor = try UnixSocket.connect(to: path) } catch {
            throw APIError(.operationFailed, "operation failed: cannot connect to '\(path.string)': \(error)")
        }
        do {
            return try await ClientBootstrap(group: eventLoop).withConnectedSocket(descriptor.rawValue) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        } catch {
            try? descriptor.close()
            throw APIError(.operationFailed, "operation failed: cannot relay '\(path.string)': \(error)")
        }
    }

    /// Relays `webSocket` and `stream` until one side closes, then closes both.
    static func run(webSocket: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>,
                    stream: NIOAsyncChannel<ByteBuffer, ByteBuffer>, logger: Logger) async {
        do {
            try await webSocket.executeThenClose { clientFrames, clientWriter in
                try await stream.executeThenClose { socketBytes, socketWriter in
                    await withTaskGroup(of: Void.self) { group in
                        group.addTask {
                            await toClient(socketBytes, clientWriter, logger: logger)
                        }
                        group.addTask {
                            await toSocket(clientFrames, clientWriter, socketWriter, logger: logger)
                        }
                        await group.next()
                        group.cancelAll()
                    }
                }
            }
        } catch {
            logger.debug("stream relay ended", metadata: ["error": "\(error)"])
        }
    }

    /// Socket bytes -> binary frames; at end of file, a normal close.
    private static func toClient(_ socketBytes: NIOAsyncChannelInboundStream<ByteBuffer>,
                                 _ clientWriter: NIOAsyncChannelOutboundWriter<WebSocketFrame>, logger: Logger) async {
        do {
            for try await bytes in socketBytes {
                try await clientWriter.write(WebSocketFrame(fin: true, opcode: .binary, data: bytes))
            }
        } catch {
            logger.debug("stream socket ended", metadata: ["error": "\(error)"])
        }
        // Cancelled: the client closed first and its close was answered.
        if !Task.isCancelled { try? await clientWriter.write(closeFrame(.normalClosure)) }
    }

    /// Client frames -> socket bytes; a close from the client is answered and ends the relay.
    private static func toSocket(_ clientFrames: NIOAsyncChannelInboundStream<WebSocketFrame>,
                                 _ clientWriter: NIOAsyncChannelOutboundWriter<WebSocketFrame>,
                                 _ socketWriter: NIOAsyncChannelOutboundWriter<ByteBuffer>, logger: Logger) async {
        do {
            for try await frame in clientFrames {
                switch frame.opcode {
                case .binary, .text, .continuation:
                    let bytes = frame.unmaskedData
                    if bytes.readableBytes > 0 { try await socketWriter.write(bytes) }
                case .ping:
                    try await clientWriter.write(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData))
                case .connectionClose:
                    var payload = frame.unmaskedData
                    let code = payload.readWebSocketErrorCode() ?? .normalClosure
                    try? await clientWriter.write(closeFrame(code))
                    return
                default:
                    continue
                }
            }
        } catch {
            logger.debug("stream client ended", metadata: ["error": "\(error)"])
        }
    }

    private static func closeFrame(_ code: WebSocketErrorCode) -> WebSocketFrame {
        var payload = ByteBuffer()
        payload.write(webSocketErrorCode: code)
        return WebSocketFrame(fin: true, opcode: .connectionClose, data: payload)
    }
}
