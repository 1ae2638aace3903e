import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing
import VirtKitGuestAgent
import VirtKitQMP

#if canImport(Glibc)
import Glibc
#endif

/// A scriptable guest agent on the far end of a socket pair whose near end a
/// ``GuestAgent/Client`` is attached to. The test reads what the client sent (0xFF flush
/// bytes and command lines, in order) and writes any bytes back.
final class FakeAgent: Sendable {
    /// What the client sent.
    enum Item: Equatable, Sendable {
        /// A 0xFF byte.
        case flush
        /// One line, parsed.
        case command(QMP.Value)
        /// One line that is not JSON.
        case garbage(String)
    }

    private let channel: Channel
    private let inbox: Inbox

    private init(channel: Channel, inbox: Inbox) {
        self.channel = channel
        self.inbox = inbox
    }

    /// A client attached to one end of a new socket pair and the fake on the other.
    /// A client and a fake; the client's default timeout is long (these tests are about the
    /// protocol, and a busy CI machine must not turn a reply into a timeout): tests of
    /// timeouts give theirs.
    static func pair(responseTimeout: Duration = .seconds(60)) async throws -> (GuestAgent.Client, FakeAgent) {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else {
            throw POSIXError(.init(rawValue: errno) ?? .EIO)
        }
        let fake = try await attach(fds[1])
        let client = try await GuestAgent.Client.attach(connectedSocket: fds[0], responseTimeout: responseTimeout)
        return (client, fake)
    }

    /// The fake over `fd`, a connected stream socket it takes over.
    static func attach(_ fd: Int32) async throws -> FakeAgent {
        let inbox = Inbox()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteCollector(inbox: inbox))
                }
            }
            .withConnectedSocket(fd).get()
        return FakeAgent(channel: channel, inbox: inbox)
    }

    /// The next thing the client sent, however long it takes: the protocol tests wait for the
    /// event, not for a deadline a busy machine could miss (the suite's time limit ends a hang,
    /// and cancellation ends the wait).
    func next() async throws -> Item {
        while true {
            if let item = inbox.items.withLock({ items in items.isEmpty ? nil : items.removeFirst() }) { return item }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    /// The next thing the client sent, waiting at most `wait`; nil when nothing came.
    func next(within wait: Duration) async throws -> Item? {
        let deadline = ContinuousClock.now + wait
        while true {
            let item = inbox.items.withLock { items in items.isEmpty ? nil : items.removeFirst() }
            if let item { return item }
            if ContinuousClock.now >= deadline { return nil }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// The client's next command, and whether a 0xFF byte came just before it.
    func nextCommand() async throws -> (flushed: Bool, command: QMP.Value) {
        var flushed = false
        while true {
            switch try await next() {
            case .flush: flushed = true
            case .command(let command): return (flushed, command)
            case .garbage(let text): throw FakeAgentError.unexpected(text)
            }
        }
    }

    /// Reads a `guest-sync-delimited` (after its 0xFF) and answers it with the sentinel and the
    /// id, after writing `before` (stale bytes the client must drop). Returns the id.
    @discardableResult
    func answerSync(before stale: [UInt8] = []) async throws -> Int64 {
        let (flushed, sync) = try await nextCommand()
        #expect(flushed, "the client sends 0xFF before guest-sync-delimited")
        #expect(sync["execute"] == "guest-sync-delimited")
        let id = try #require(sync["arguments"]?["id"]?.int64)
        try await write(stale + [0xFF] + Array(#"{"return": \#(id)}"#.utf8) + [0x0A])
        return id
    }

    /// Reads the next command, expects it to be `name`, and returns its arguments.
    @discardableResult
    func expectCommand(_ name: String) async throws -> QMP.Value? {
        let (flushed, command) = try await nextCommand()
        #expect(command["execute"]?.string == name)
        #expect(!flushed, "no 0xFF before an ordinary command")
        return command["arguments"]
    }

    /// Whether the client stays silent for `duration`.
    func staysSilent(for duration: Duration) async throws -> Bool {
        try await next(within: duration) == nil
    }

    func write(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(channel.allocator.buffer(bytes: bytes))
    }

    func write(_ text: String) async throws {
        try await write(Array(text.utf8))
    }

    /// Writes `value` as one line, as qemu-ga does.
    func reply(_ value: QMP.Value) async throws {
        try await write(value.jsonString + "\n")
    }

    func close() async {
        try? await channel.close()
    }
}

enum FakeAgentError: Error {
    case unexpected(String)
}

/// What the client sent and the fake has not read yet, in order.
private final class Inbox: Sendable {
    let items = Mutex<[FakeAgent.Item]>([])
    func record(_ item: FakeAgent.Item) {
        items.withLock { $0.append(item) }
    }
}

/// Splits what the client wrote into 0xFF bytes and lines.
private final class ByteCollector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let inbox: Inbox
    private var partial: [UInt8] = []

    init(inbox: Inbox) { self.inbox = inbox }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        for byte in unwrapInboundIn(data).readableBytesView {
            switch byte {
            case 0xFF:
                inbox.record(.flush)
            case 0x0A:
                let line = partial
                partial = []
                if let value = try? QMP.Value(json: line) {
                    inbox.record(.command(value))
                } else {
                    inbox.record(.garbage(String(decoding: line, as: UTF8.self)))
                }
            default:
                partial.append(byte)
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
