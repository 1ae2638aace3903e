import NIOCore
import NIOPosix
import Synchronization
import VirtKitMonitor

/// Collects what a test client receives and whether the server closed.
final class ReceivedBytes: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    private let state = Mutex<(bytes: [UInt8], closed: Bool)>(([], false))

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = Self.unwrapInboundIn(data)
        state.withLock { $0.bytes += buffer.readableBytesView }
    }

    func channelInactive(context: ChannelHandlerContext) {
        state.withLock { $0.closed = true }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    var bytes: [UInt8] { state.withLock { $0.bytes } }
    var closed: Bool { state.withLock { $0.closed } }
    /// The bytes and the closed flag read together: read one after the other, the server's
    /// answer and its close can both land in between, and a closed client looks empty.
    var snapshot: (bytes: [UInt8], closed: Bool) { state.withLock { ($0.bytes, $0.closed) } }
}

/// A monitor client for tests, like `socat` or `nc`: sends bytes, collects what comes back.
final class MonitorTestClient: Sendable {
    let channel: Channel
    private let received: ReceivedBytes

    private init(channel: Channel, received: ReceivedBytes) {
        self.channel = channel
        self.received = received
    }

    /// Connects to `address`; with `autoRead` false the client never reads, like a stalled
    /// peer whose socket buffer fills up.
    static func connect(to address: MonitorEndpoint.Address, autoRead: Bool = true) async throws -> MonitorTestClient {
        let received = ReceivedBytes()
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.autoRead, value: autoRead)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(received) }
            }
        let channel: Channel
        switch address {
        case .unix(let path): channel = try await bootstrap.connect(unixDomainSocketPath: path.string).get()
        case .tcp(let host, let port): channel = try await bootstrap.connect(to: SocketAddress(ipAddress: host, port: port)).get()
        }
        return MonitorTestClient(channel: channel, received: received)
    }

    func send(_ text: String) async throws {
        try await send(Array(text.utf8))
    }

    func send(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(channel.allocator.buffer(bytes: bytes)).get()
    }

    var bytes: [UInt8] { received.bytes }
    var text: String { String(decoding: received.bytes, as: UTF8.self) }
    var isClosed: Bool { received.closed }
    /// The text so far and whether the server closed, read at one instant.
    var textAndClosed: (text: String, closed: Bool) {
        let snapshot = received.snapshot
        return (String(decoding: snapshot.bytes, as: UTF8.self), snapshot.closed)
    }

    /// Waits until the text received so far contains `needle` `count` times; returns the text.
    @discardableResult
    func waitFor(_ needle: String, count: Int = 1, timeout: Duration = .seconds(20)) async throws -> String {
        try await waitUntil(timeout: timeout, "\(count) × \(needle.debugDescription)") { text, _ in
            text.components(separatedBy: needle).count - 1 >= count
        }
    }

    /// Waits until the server has closed the connection; returns the text received.
    @discardableResult
    func waitClosed(timeout: Duration = .seconds(20)) async throws -> String {
        try await waitUntil(timeout: timeout, "close") { _, closed in closed }
    }

    private func waitUntil(
        timeout: Duration, _ what: String, _ done: (String, Bool) -> Bool
    ) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (text, closed) = textAndClosed
            if done(text, closed) { return text }
            guard ContinuousClock.now < deadline else {
                throw TestFailure("waited \(timeout) for \(what); got \(text.prefix(2000).debugDescription)\(closed ? " (closed)" : "")")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Shuts down the sending side (half-close), as `nc -N` or `socat` at end of input do.
    func shutdownOutput() async throws {
        try await channel.close(mode: .output).get()
    }

    func close() async {
        try? await channel.close().get()
    }
}
