import Foundation
import NIOCore
import NIOPosix
@testable import VirtKitQMP

#if canImport(Glibc)
import Glibc
#endif

/// A scriptable QMP peer on a UNIX socket in a fresh short temp directory (/tmp/vkq-XXXXXX).
///
/// Each accepted connection becomes a ``FakeQMPPeer`` that the test drives by hand: read the
/// client's commands line by line, write any bytes back, close when it likes.
final class FakeQMPServer: Sendable {
    let directory: String
    let path: String
    private let channel: Channel
    private let connections: AsyncStream<FakeQMPPeer>

    private init(directory: String, path: String, channel: Channel, connections: AsyncStream<FakeQMPPeer>) {
        self.directory = directory
        self.path = path
        self.channel = channel
        self.connections = connections
    }

    static func start() async throws -> FakeQMPServer {
        let directory = try makeShortTemporaryDirectory()
        let path = directory + "/qmp.sock"
        let (connections, accepted) = AsyncStream.makeStream(of: FakeQMPPeer.self)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    let (lines, received) = AsyncStream.makeStream(of: ByteBuffer.self)
                    try child.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(QMPLineDecoder(maximumLineLength: 64 << 20)),
                        LineCollector(received),
                    ])
                    accepted.yield(FakeQMPPeer(channel: child, lines: lines))
                }
            }
            .bind(unixDomainSocketPath: path).get()
        return FakeQMPServer(directory: directory, path: path, channel: channel, connections: connections)
    }

    /// The next connection a client made.
    func accept() async throws -> FakeQMPPeer {
        for await peer in connections { return peer }
        throw FakeQMPError.serverClosed
    }

    func shutdown() async {
        try? await channel.close()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs `body` with a started server and always shuts it down.
    static func with<T>(_ body: (FakeQMPServer) async throws -> T) async throws -> T {
        let server = try await start()
        do {
            let result = try await body(server)
            await server.shutdown()
            return result
        } catch {
            await server.shutdown()
            throw error
        }
    }

    /// Connects a client and plays the greeting and negotiation on the server side.
    func connectClient(capabilities: [String] = ["oob"]) async throws -> (QMP.Client, FakeQMPPeer) {
        // Generous: these tests are about the protocol, and under a full CI run (TCG guests on
        // both cores) the greeting and qmp_capabilities once took more than 5 s, so the client
        // gave up and two tests failed on the closed connection.
        async let client = QMP.Client.connect(unixPath: path, timeout: .seconds(120))
        let peer = try await accept()
        try await peer.greet(capabilities: capabilities)
        return (try await client, peer)
    }
}

enum FakeQMPError: Error {
    case serverClosed
    case peerClosed
}

/// One accepted connection, driven by the test.
struct FakeQMPPeer: Sendable {
    let channel: Channel
    let lines: AsyncStream<ByteBuffer>

    static let greeting =
        #"{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian 1:7.2+dfsg-7"}, "capabilities": ["oob"]}}"#

    /// The client's next line, parsed.
    func readMessage() async throws -> QMP.Value {
        for await line in lines {
            return try QMP.Value(json: Array(line.readableBytesView))
        }
        throw FakeQMPError.peerClosed
    }

    /// The client's next command; its `id` and `execute`.
    func readCommand() async throws -> (id: QMP.Value, name: String, message: QMP.Value) {
        let message = try await readMessage()
        return (message["id"] ?? .null, message["execute"]?.string ?? "", message)
    }

    /// Writes `text` as it is (no line ending added).
    func write(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text))
    }

    /// Writes `value` as one `\r\n`-terminated line, as QEMU does.
    func send(_ value: QMP.Value) async throws {
        try await write(value.jsonString + "\r\n")
    }

    /// Replies `{"return": value, "id": id}`.
    func reply(id: QMP.Value, _ value: QMP.Value = .object([:])) async throws {
        try await send(["return": value, "id": id])
    }

    func greet(capabilities: [String] = ["oob"]) async throws {
        try await send(["QMP": ["version": ["qemu": ["micro": 22, "minor": 2, "major": 7], "package": "Debian"],
            "capabilities": .array(capabilities.map { .string($0) })]])
        let command = try await readCommand()
        guard command.name == "qmp_capabilities" else { throw FakeQMPError.peerClosed }
        try await reply(id: command.id)
    }

    func close() async {
        try? await channel.close()
    }
}

/// Passes each framed line on to the test.
private final class LineCollector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let received: AsyncStream<ByteBuffer>.Continuation

    init(_ received: AsyncStream<ByteBuffer>.Continuation) { self.received = received }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received.yield(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        received.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// A new directory /tmp/vkq-XXXXXX: short enough for any socket path inside it.
func makeShortTemporaryDirectory() throws -> String {
    var template = Array("/tmp/vkq-XXXXXX".utf8CString)
    guard let result = mkdtemp(&template) else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
    return String(cString: result)
}
