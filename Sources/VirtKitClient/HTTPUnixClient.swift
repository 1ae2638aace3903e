import NIOCore
import NIOHTTP1
import NIOPosix
import VirtKitAPI

/// HTTP/1.1 over a UNIX socket: one request per connection (`Connection: close`), NIO's HTTP
/// codec in the channel pipeline, the business side reading an `NIOAsyncChannel`.
struct HTTPUnixClient: Sendable {
    let socketPath: String

    struct Answer: Sendable {
        var status: Int
        var body: [UInt8]
    }

    func send(method: HTTPMethod, path: String, body: [UInt8]?, contentType: String) async throws(APIError) -> Answer {
        let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(unixDomainSocketPath: socketPath) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                            wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw APIError(.noConnect, "Failed to connect socket to '\(socketPath)': \(Self.reason(error))")
        }
        do {
            return try await channel.executeThenClose { inbound, outbound in
                var headers = HTTPHeaders()
                headers.add(name: "Host", value: "virtkitd")
                headers.add(name: "Connection", value: "close")
                headers.add(name: "Content-Length", value: String(body?.count ?? 0))
                if body != nil { headers.add(name: "Content-Type", value: contentType) }
                // One write for the whole request: a server that answers as soon as it has the
                // head (no body) and closes must not fail a later write of ours. A write that
                // fails all the same is not fatal if the answer is there to read.
                var parts: [HTTPClientRequestPart] = [.head(HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: headers))]
                if let body { parts.append(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
                parts.append(.end(nil))
                try? await outbound.write(contentsOf: parts)
                var answer = Answer(status: 0, body: [])
                for try await part in inbound {
                    switch part {
                    case .head(let head): answer.status = Int(head.status.code)
                    case .body(var buffer): answer.body += buffer.readBytes(length: buffer.readableBytes) ?? []
                    case .end where answer.status != 0: return answer
                    case .end: break
                    }
                }
                throw APIError(.noConnect, "virtkitd at '\(socketPath)' closed the connection without an answer")
            }
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(.noConnect, "lost connection to virtkitd at '\(socketPath)': \(error)")
        }
    }

    /// errno's words for a connect failure (virsh prints "No such file or directory").
    static func reason(_ error: any Error) -> String {
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)) }
        return "\(error)"
    }
}

#if canImport(Glibc)
import Glibc
#endif
