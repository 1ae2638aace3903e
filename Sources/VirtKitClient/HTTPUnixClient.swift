import NIOCore
import NIOEmbedded
import NIOHTTP1
import VirtKitAPI
#if canImport(Glibc)
import Glibc
#endif

/// HTTP/1.1 over a UNIX socket, one request per connection (`Connection: close`).
///
/// NIO's HTTP codec does the framing, driven through an `EmbeddedChannel`; the socket is a plain
/// blocking one. A CLI process sends one or two requests in its life: an event-loop group's
/// threads and epoll cost it more than the request itself (docs/performance.md).
struct HTTPUnixClient: Sendable {
    let socketPath: String

    struct Answer: Sendable {
        var status: Int
        var body: [UInt8]
    }

    func send(method: HTTPMethod, path: String, body: [UInt8]?, contentType: String) async throws(APIError) -> Answer {
        let fd = try connect()
        defer { close(fd) }
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        do {
            try channel.pipeline.syncOperations.addHTTPClientHandlers()
            var headers = HTTPHeaders()
            headers.add(name: "Host", value: "virtkitd")
            headers.add(name: "Connection", value: "close")
            headers.add(name: "Content-Length", value: String(body?.count ?? 0))
            if body != nil { headers.add(name: "Content-Type", value: contentType) }
            try channel.writeOutbound(HTTPClientRequestPart.head(
                HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: headers)))
            if let body { try channel.writeOutbound(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body)))) }
            try channel.writeOutbound(HTTPClientRequestPart.end(nil))
            var request: [UInt8] = []
            while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
                request += buffer.readBytes(length: buffer.readableBytes) ?? []
            }
            try writeAll(fd, request)
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(.noConnect, "cannot send to virtkitd at '\(socketPath)': \(error)")
        }
        // The server closes after its answer; read to the end, decoding as bytes arrive.
        var answer = Answer(status: 0, body: [])
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            do {
                try channel.writeInbound(ByteBuffer(bytes: chunk[0..<n]))
                while let part = try channel.readInbound(as: HTTPClientResponsePart.self) {
                    switch part {
                    case .head(let head): answer.status = Int(head.status.code)
                    case .body(var buffer): answer.body += buffer.readBytes(length: buffer.readableBytes) ?? []
                    case .end where answer.status != 0: return answer
                    case .end: break
                    }
                }
            } catch {
                throw APIError(.noConnect, "malformed answer from virtkitd at '\(socketPath)': \(error)")
            }
        }
        throw APIError(.noConnect, "virtkitd at '\(socketPath)' closed the connection without an answer")
    }

    private func connect() throws(APIError) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw APIError(.noConnect, "cannot create a socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(socketPath.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw APIError(.noConnect, "Failed to connect socket to '\(socketPath)': File name too long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if rc != 0 {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw APIError(.noConnect, "Failed to connect socket to '\(socketPath)': \(reason)")
        }
        return fd
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(APIError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw APIError(.noConnect, "lost connection to virtkitd at '\(socketPath)': \(String(cString: strerror(errno)))")
            }
            offset += n
        }
    }
}
