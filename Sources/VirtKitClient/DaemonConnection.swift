import SystemPackage
import VirtKitAPI
import VirtKitHost
#if canImport(Glibc)
import Glibc
#endif

/// One HTTP/1.1 request to virtkitd over its UNIX socket (`Connection: close`), blocking: no event
/// loop, no NIO pipeline, no concurrency runtime, so the one-request processes of the CLI (the
/// static front above all) pay only for the request.
public struct DaemonConnection: Sendable {
    public let socketPath: String

    public init(socketPath: String) {
        self.socketPath = socketPath
    }

    /// virtkitd's answer.
    public struct Answer: Sendable {
        public var status: Int
        public var body: [UInt8]
        /// The `Content-Location` header: a defined domain's own path.
        public var contentLocation: String?
    }

    public enum Outcome: Sendable {
        case answered(Answer)
        /// Nothing listens at the socket path (or it cannot be reached): nothing was sent.
        case unreachable(HostError)
    }

    /// Sends one request and reads the whole answer. A failure after connecting is thrown
    /// (`.systemError`, or `.internalError` for an answer that is not HTTP): the request may
    /// have been carried out, so it is never reported as ``Outcome/unreachable(_:)``.
    public func send(method: String, path: String, body: [UInt8]? = nil, contentType: String = "application/json")
        throws(APIError) -> Outcome
    {
        let socket: FileDescriptor
        do {
            socket = try UnixSocket.connect(to: FilePath(socketPath))
        } catch {
            return .unreachable(error)
        }
        defer { try? socket.close() }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: virtkitd\r\nConnection: close\r\n"
        if let body { head += "Content-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n" }
        head += "\r\n"
        do {
            try ByteRelay.writeAll(socket.rawValue, (Array(head.utf8) + (body ?? []))[...])
        } catch {
            throw APIError(.systemError, "lost connection to virtkitd at '\(socketPath)': \(error)")
        }
        return .answered(try readAnswer(socket))
    }

    private func readAnswer(_ socket: FileDescriptor) throws(APIError) -> Answer {
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
            throw APIError(.internalError, "malformed answer from virtkitd at '\(socketPath)': \(error)")
        }
        return Answer(status: reader.status ?? 0, body: reader.body, contentLocation: reader.contentLocation)
    }
}
