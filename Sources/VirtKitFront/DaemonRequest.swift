import SystemPackage
import VirtKitAPI
import VirtKitHost
#if canImport(Glibc)
import Glibc
#endif

/// One HTTP/1.1 request to virtkitd over its UNIX socket (`Connection: close`), blocking, for the
/// front: no event loop, no NIO pipeline, no concurrency runtime.
struct DaemonRequest {
    let socketPath: String

    enum Outcome {
        case answered(status: Int, body: [UInt8], contentLocation: String?)
        /// Nothing listens at the socket path (or it cannot be reached): nothing was sent.
        case unreachable
    }

    func send(method: String, path: String, body: [UInt8], contentType: String) throws(APIError) -> Outcome {
        let socket: FileDescriptor
        do {
            socket = try UnixSocket.connect(to: FilePath(socketPath))
        } catch {
            return .unreachable
        }
        defer { try? socket.close() }
        let head = "\(method) \(path) HTTP/1.1\r\nHost: virtkitd\r\nConnection: close\r\n"
            + "Content-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n\r\n"
        do {
            try ByteRelay.writeAll(socket.rawValue, (Array(head.utf8) + body)[...])
        } catch {
            throw APIError(.noConnect, "lost connection to virtkitd at '\(socketPath)': \(error)")
        }
        var reader = HTTPResponseReader()
        // Not zero-filled: the kernel writes what is read, and only those pages get touched.
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 1)
        defer { chunk.deallocate() }
        do throws(HTTPResponseReader.Failure) {
            while !reader.isComplete {
                let n = read(socket.rawValue, chunk.baseAddress, chunk.count)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 {
                    try reader.finish()
                    break
                }
                try reader.receive(UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
            }
        } catch {
            throw APIError(.noConnect, "virtkitd at '\(socketPath)': \(error)")
        }
        return .answered(status: reader.status ?? 0, body: reader.body, contentLocation: reader.contentLocation)
    }
}
