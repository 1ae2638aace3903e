import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket
import SystemPackage
import VirtKitAPI

/// virtkitd's HTTP/1 connections, with a WebSocket upgrade on the stream endpoints.
///
/// A request asking for an upgrade on a stream path (``APIRouter/streamSocket(path:hypervisor:)``)
/// has its socket resolved and connected before anything is answered. Connected, the answer is
/// 101 and the connection becomes a ``StreamRelay`` to that socket. Refused (unknown domain, not
/// running, socket gone), the answer is the API's JSON error with its HTTP status, and the
/// connection closes. Every other request goes to the router as on a plain HTTP/1 connection.
/// HummingbirdWebSocket's upgrade channel answers every refused upgrade with an empty 400, which
/// is why virtkitd has its own, on the same NIO pieces.
///
/// Each connection's decision is kept in a `NIOLoopBoundBox`: written and read on the
/// connection's event loop only.
struct StreamUpgradeChannel: ServerChildChannel, HTTPChannelHandler {
    /// A request path -> the socket to relay (nil: not a stream path), or why not.
    typealias Resolver = @Sendable (_ path: String) async throws(APIError) -> FilePath?

    /// What an upgrade request was found to be.
    enum Decision: Sendable {
        case notAStream
        case relay(NIOAsyncChannel<ByteBuffer, ByteBuffer>)
        case refuse(APIError)
    }

    /// What a connection became once its first request was read.
    enum UpgradeResult: Sendable {
        case relay(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, NIOAsyncChannel<ByteBuffer, ByteBuffer>)
        case http(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        case refused(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, APIError)
    }

    struct Value: ServerChildChannelValue {
        let upgradeResult: EventLoopFuture<UpgradeResult>
        let channel: any Channel
    }

    let responder: HTTPChannelHandler.Responder
    let resolve: Resolver
    /// Who may connect, and how many connections each user may hold.
    let gate: APIPeerGate
    /// How long a client that owes the next bytes may keep its connection without sending them.
    var idleTimeout: TimeAmount = .seconds(60)
    /// The largest frame a client may send (the monitor takes lines; a console paste fits).
    var maxFrameSize = 1 << 20

    init(responder: @escaping HTTPChannelHandler.Responder, gate: APIPeerGate, resolve: @escaping Resolver) {
        self.responder = responder
        self.gate = gate
        self.resolve = resolve
    }

    /// A connection the gate refused.
    struct Refused: Error, CustomStringConvertible {
        var description: String
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        gate.admit(channel).flatMapThrowing { refusal in
            if let refusal {
                logger.warning("API connection refused", metadata: ["why": "\(refusal)"])
                // A failed set-up alone leaves the connection open.
                channel.close(promise: nil)
                throw Refused(description: refusal)
            }
            return try configure(channel: channel, logger: logger)
        }
    }

    /// The pipeline of an admitted connection: the idle closer, then HTTP/1 with the upgrade.
    private func configure(channel: any Channel, logger: Logger) throws -> Value {
        do {
            let decision = NIOLoopBoundBox(Decision.notAStream, eventLoop: channel.eventLoop)
            try channel.pipeline.syncOperations.addHandler(IdleConnectionCloser(timeout: idleTimeout) {
                if case .relay = decision.value { return true }
                return false
            })
            // A socket connected for an upgrade that never completed is not left open.
            channel.closeFuture.whenComplete { _ in
                if case .relay(let stream) = decision.value { stream.channel.close(promise: nil) }
            }
            let upgrader = NIOTypedWebSocketServerUpgrader<UpgradeResult>(
                maxFrameSize: maxFrameSize,
                shouldUpgrade: { channel, head in
                    let promise = channel.eventLoop.makePromise(of: Decision.self)
                    promise.completeWithTask { await decide(head, eventLoop: channel.eventLoop) }
                    return promise.futureResult.map { outcome -> HTTPHeaders? in
                        decision.value = outcome
                        if case .relay = outcome { return HTTPHeaders() }
                        return nil
                    }
                },
                upgradePipelineHandler: { channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        guard case .relay(let stream) = decision.value else {
                            throw ChannelError.inappropriateOperationForState
                        }
                        let webSocket = try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(
                            wrappingChannelSynchronously: channel)
                        return UpgradeResult.relay(webSocket, stream)
                    }
                })
            let upgrades = NIOTypedHTTPServerUpgradeConfiguration<UpgradeResult>(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        try channel.pipeline.syncOperations.addHandler(HTTPConnectionStateHandler(logger: logger))
                        let http = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                        if case .refuse(let error) = decision.value { return UpgradeResult.refused(http, error) }
                        return UpgradeResult.http(http)
                    }
                })
            var configuration = NIOUpgradableHTTPServerPipelineConfiguration(upgradeConfiguration: upgrades)
            configuration.enablePipelining = false  // NIOAsyncChannel serves one request at a time
            configuration.enableErrorHandling = false  // Hummingbird answers errors
            configuration.enableResponseHeaderValidation = false  // HTTPTypes validates
            let result = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: configuration)
            return Value(upgradeResult: result, channel: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.upgradeResult.get() {
            case .http(let http):
                await handleHTTP(asyncChannel: http, logger: logger)
            case .refused(let http, let error):
                await refuse(http, error, logger: logger)
            case .relay(let webSocket, let stream):
                await StreamRelay.run(webSocket: webSocket, stream: stream, logger: logger)
            }
        } catch {
            logger.debug("connection ended before its first request", metadata: ["error": "\(error)"])
        }
    }

    /// Resolves and connects the socket behind an upgrade request's path.
    private func decide(_ head: HTTPRequestHead, eventLoop: any EventLoop) async -> Decision {
        let path = String(head.uri.prefix { $0 != "?" })
        do throws(APIError) {
            guard let socket = try await resolve(path) else { return .notAStream }
            return .relay(try await StreamRelay.connect(unixSocket: socket, on: eventLoop))
        } catch {
            return .refuse(error)
        }
    }

    /// Answers a refused upgrade with the JSON error and closes the connection.
    private func refuse(_ http: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, _ error: APIError,
                        logger: Logger) async {
        let body = APIRouter.encode(APIErrorBody(error: error))
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.contentLength] = "\(body.readableBytes)"
        headers[.connection] = "close"
        do {
            try await http.executeThenClose { _, outbound in
                try await outbound.write(contentsOf: [
                    .head(HTTPResponse(status: .init(code: error.httpStatus), headerFields: headers)),
                    .body(body), .end(nil),
                ])
            }
        } catch {
            logger.debug("cannot answer a refused upgrade", metadata: ["error": "\(error)"])
        }
    }
}
