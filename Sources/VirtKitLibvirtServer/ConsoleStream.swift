import NIOCore
import NIOPosix
import SystemPackage
import VirtKitHost
import VirtKitLibvirtRPC
import VirtKitText
#if canImport(Glibc)
import Glibc
#endif

/// A console or channel opened over libvirt's protocol (DOMAIN_OPEN_CONSOLE): one more client
/// of the chardev's broker, relayed as STREAM packets with the opening call's serial. The
/// broker's pen rules apply as to any other client: FORCE takes the pen, and without it a
/// second writer is refused with libvirt's own message.
final class ConsoleStream: Sendable {
    /// VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX: the chunk size libvirt's streams use.
    static let chunk = 262_120

    let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
    /// What the broker said before the stream was answered (the scrollback's start).
    let firstBytes: [UInt8]

    private init(channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>, firstBytes: [UInt8]) {
        self.channel = channel
        self.firstBytes = firstBytes
    }

    /// Connects to a broker's client socket. A refusal (`virtkit: ... is in use by another
    /// client`) comes at once on connect, so the first 100 ms are read before answering.
    static func open(_ socket: FilePath) async throws -> ConsoleStream {
        let (descriptor, first) = try await NIOThreadPool.singleton.runIfActive { () throws -> (SystemPackage.FileDescriptor, [UInt8]) in
            let descriptor = try UnixSocket.connect(to: socket)
            var poller = pollfd(fd: descriptor.rawValue, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) == 1 else { return (descriptor, []) }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = (try? buffer.withUnsafeMutableBytes { try descriptor.read(into: $0) }) ?? 0
            return (descriptor, Array(buffer[0..<count]))
        }
        if first.starts(with: Array("virtkit: ".utf8)) {
            try? descriptor.close()
            let text = String(decoding: first, as: UTF8.self)
            if text.contains("in use by another client") {
                throw RemoteError(code: RemoteError.Number.operationFailed, domain: RemoteError.Source.qemu,
                                  message: "operation failed: Active console session exists for this domain")
            }
            throw RemoteError(code: RemoteError.Number.operationFailed, domain: RemoteError.Source.qemu,
                              message: "operation failed: " + String(text.dropFirst("virtkit: ".count).trimmingBlanks))
        }
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .withConnectedSocket(descriptor.rawValue) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
        return ConsoleStream(channel: channel, firstBytes: first)
    }

    /// Relays until either side ends: the console's output to the client as STREAM/CONTINUE
    /// packets of `header`'s call (STREAM/OK once the console ends), the client's bytes from
    /// `input` to the console. Cancelled when the client finishes or aborts the stream.
    func run(_ header: RPCHeader, to client: NIOAsyncChannelOutboundWriter<ByteBuffer>, input: AsyncStream<[UInt8]>) async throws {
        let first = firstBytes
        try await channel.executeThenClose { inbound, outbound in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await bytes in input { try await outbound.write(ByteBuffer(bytes: bytes)) }
                }
                let data = header.reply(.continue, type: .stream)
                if !first.isEmpty { try await client.write(ByteBuffer(bytes: RPCPacket(header: data, payload: first).bytes)) }
                for try await var buffer in inbound {
                    while buffer.readableBytes > 0, let bytes = buffer.readBytes(length: min(buffer.readableBytes, Self.chunk)) {
                        try await client.write(ByteBuffer(bytes: RPCPacket(header: data, payload: bytes).bytes))
                    }
                }
                if !Task.isCancelled {
                    try await client.write(ByteBuffer(bytes: RPCPacket(header: header.reply(.ok, type: .stream)).bytes))
                }
                group.cancelAll()
            }
        }
    }

    /// Closes a stream that was opened but never started.
    func close() {
        channel.channel.close(promise: nil)
    }
}
