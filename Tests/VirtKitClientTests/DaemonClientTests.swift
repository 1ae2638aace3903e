import Foundation
import Synchronization
import Testing
import VirtKitAPI
@testable import VirtKitClient

/// The client against a fake daemon: a UNIX socket that records each request and answers it with
/// canned bytes, so the client's side of the wire is checked without virtkitd.
@Suite("DaemonClient against a fake daemon", .timeLimit(.minutes(3)))
struct DaemonClientTests {
    @Test func defineTakesTheNameFromContentLocation() throws {
        let answer = "HTTP/1.1 201 Created\r\nContent-Location: /v1/domains/a%20b\r\nContent-Length: 2\r\n\r\n{}"
        let (name, request) = try FakeDaemon.exchange(answer) { try $0.define(xml: "<domain/>") }
        #expect(name == "a b")
        #expect(request.hasPrefix("POST /v1/domains HTTP/1.1\r\n"))
        #expect(request.contains("Content-Type: application/xml\r\nContent-Length: 9\r\n\r\n<domain/>"))
    }

    @Test func defineFallsBackToTheSummary() throws {
        let body = #"{"name":"vm","uuid":"u","state":"shut off","reason":"unknown"}"#
        let answer = "HTTP/1.1 201 Created\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body
        #expect(try FakeDaemon.exchange(answer) { try $0.define(xml: "<domain/>") }.0 == "vm")
    }

    @Test(arguments: [true, false])
    func startSendsTheAPIsStartRequest(paused: Bool) throws {
        let (_, request) = try FakeDaemon.exchange("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") {
            try $0.start("vm", paused: paused)
        }
        #expect(request.hasPrefix("POST /v1/domains/vm/start HTTP/1.1\r\n"))
        let body = try #require(request.components(separatedBy: "\r\n\r\n").last)
        #expect(try JSONDecoder().decode(StartRequest.self, from: Data(body.utf8)).paused == paused)
    }

    @Test func theDaemonsErrorComesBackAsItsAPIError() throws {
        let body = #"{"error":{"code":"no-domain","message":"Domain not found: no domain with matching name 'x'"}}"#
        let answer = "HTTP/1.1 404 Not Found\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body
        let error = #expect(throws: APIError.self) { try FakeDaemon.exchange(answer) { try $0.state("x") } }
        #expect(error == APIError(.noDomain, "Domain not found: no domain with matching name 'x'"))
    }

    @Test func aChunkedListIsDecoded() throws {
        let body = #"[{"id":1,"name":"vm","uuid":"u","state":"running","reason":"booted"}]"#
        let answer = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            + String(body.utf8.count, radix: 16) + "\r\n" + body + "\r\n0\r\n\r\n"
        let (list, request) = try FakeDaemon.exchange(answer) { try $0.list(all: true) }
        #expect(list == [DomainSummary(id: 1, name: "vm", uuid: "u", state: .running, reason: .booted)])
        #expect(request.hasPrefix("GET /v1/domains?all=true HTTP/1.1\r\n"))
        #expect(!request.contains("Content-Length"), "a GET carries no body")
    }

    @Test func aListThatIsNotTheAPIsIsAnErrorNotAGuess() throws {
        for body in [#"[{"name":"vm"}]"#, #"{"error":1}"#, #"[{"id":"1","name":"vm","uuid":"u","state":"running","reason":"booted"}]"#] {
            let answer = "HTTP/1.1 200 OK\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body
            let error = #expect(throws: APIError.self, "\(body)") { try FakeDaemon.exchange(answer) { try $0.list(all: false) } }
            #expect(error?.code == .internalError)
        }
        let shutOff = #"[{"name":"vm","uuid":"u","state":"shut off","reason":"unknown"}]"#
        let answer = "HTTP/1.1 200 OK\r\nContent-Length: \(shutOff.utf8.count)\r\n\r\n" + shutOff
        #expect(try FakeDaemon.exchange(answer) { try $0.list(all: true) }.0
                == [DomainSummary(id: nil, name: "vm", uuid: "u", state: .shutoff, reason: .unknown)])
    }

    @Test func noDaemonIsNoConnectAndNothingElse() {
        let error = #expect(throws: APIError.self) {
            try DaemonClient(socketPath: "/nonexistent/virtkitd.sock").version()
        }
        #expect(error?.code == .noConnect)
        #expect(error?.message.hasPrefix("Failed to connect socket to '/nonexistent/virtkitd.sock'") == true)
    }

    @Test func aDaemonThatHangsUpAfterTheRequestIsNotNoConnect() throws {
        // The request was sent, so it may have been carried out: never "nothing was sent".
        let error = #expect(throws: APIError.self) { try FakeDaemon.exchange("") { try $0.version() } }
        #expect(error?.code == .internalError)
    }

    @Test func virshsConnectionBeforeTheVerb() {
        #expect(DaemonAddress.connectionAfterVerb(["-c", "virtkit:///session", "start", "vm"])
                == ["start", "-c", "virtkit:///session", "vm"])
        #expect(DaemonAddress.connectionAfterVerb(["start", "vm"]) == ["start", "vm"])
        #expect(DaemonAddress.chosen(connect: "virtkit+unix:///x.sock") == .socket("/x.sock"))
        #expect(DaemonAddress.chosen(connect: "http://nope") == nil)
    }
}

/// A one-request daemon on a UNIX socket in a temporary directory.
enum FakeDaemon {
    /// Serves one connection: reads the request until the client stops sending (its head and
    /// Content-Length body), writes `answer`, closes; returns what `body` made of it and the
    /// request as text.
    static func exchange<T>(_ answer: String, _ body: (DaemonClient) throws -> T) throws -> (T, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vkfake-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("d.sock").path
        let listener = try listen(path)
        let request = Mutex("")
        let server = Thread {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            request.withLock { $0 = readRequest(client) }
            _ = Array(answer.utf8).withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
            close(client)
        }
        server.start()
        defer { close(listener) }
        let result = try body(DaemonClient(socketPath: path))
        return (result, request.withLock { $0 })
    }

    private static func listen(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: Array(path.utf8) + [0])
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, Glibc.listen(fd, 1) == 0 else { throw POSIXError(.EADDRINUSE) }
        return fd
    }

    /// The request's head and, by its Content-Length, its body.
    private static func readRequest(_ fd: Int32) -> String {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let text = String(decoding: bytes, as: UTF8.self)
            if let headEnd = text.range(of: "\r\n\r\n") {
                let head = text[..<headEnd.lowerBound]
                let length = head.split(separator: "\r\n").first { $0.hasPrefix("Content-Length: ") }
                    .flatMap { Int($0.dropFirst("Content-Length: ".count)) } ?? 0
                if text[headEnd.upperBound...].utf8.count >= length { return text }
            }
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { return text }
            bytes += buffer[0..<n]
        }
    }
}
