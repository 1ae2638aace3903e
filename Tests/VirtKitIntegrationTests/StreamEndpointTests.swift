import Foundation
import SystemPackage
import Testing
import VirtKitAPI
import VirtKitClient
import VirtKitHost
import VirtKitTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The WebSocket stream endpoints of a real virtkitd, relaying a real guest's monitor channels.
/// The client is written out here (HTTP upgrade and RFC 6455 frames over the daemon's UNIX
/// socket): WebSocketClient connects to TCP hosts only, and bytes on the wire are what is checked.
@Suite("WebSocket streams: monitor channels through virtkitd", .tags(.qemu), .serialized)
struct StreamEndpointTests {
    @Test("interactive and command monitor streams relay HMP and QMP; an unknown domain is a 404 JSON error")
    func monitorStreams() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let (daemon, client) = try await DaemonProcessTests.startDaemon(harness)
        defer { daemon.send(signal: SIGKILL) }
        let uuid = UUID().uuidString.lowercased()
        _ = try await client.define(xml: harness.domainXML(name: "streamed", uuid: uuid))
        _ = try await client.start("streamed", paused: true)
        let api = harness.layout.socketPath.string

        // Interactive: QEMU's banner, then an HMP command's answer; a close is answered.
        let interactive = try WebSocketProbe(socket: api, path: "/v1/domains/streamed/monitor/interactive")
        #expect(interactive.status == 101, "\(interactive.head)")
        #expect(interactive.head.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "\(interactive.head)")
        try interactive.send(opcode: 0x1, Array("info status\n".utf8))
        let (hmp, _) = try await interactive.receive(until: "VM status", timeout: 20)
        #expect(hmp.contains("QEMU 7.2") && hmp.contains("(qemu)"), "banner: \(hmp)")
        #expect(hmp.contains("VM status: paused"), "\(hmp)")
        try interactive.send(opcode: 0x8, [0x03, 0xE8])
        let (_, closedByServer) = try await interactive.receive(until: nil, timeout: 10)
        #expect(closedByServer == 1000, "the client's close is answered")

        // Command: one QMP object, its reply as binary frames, then the close.
        let command = try WebSocketProbe(socket: api, path: "/v1/domains/streamed/monitor/command")
        #expect(command.status == 101, "\(command.head)")
        try command.send(opcode: 0x2, Array("{\"execute\":\"query-name\"}\n".utf8))
        let (reply, closeCode) = try await command.receive(until: nil, timeout: 20)
        #expect(reply.contains("\"name\": \"streamed\"") || reply.contains("\"name\":\"streamed\""), "\(reply)")
        #expect(closeCode == 1000, "closed after the answer: \(reply)")

        // Refused upgrades get the API's JSON error and status; a plain GET is told to upgrade.
        let unknown = try WebSocketProbe(socket: api, path: "/v1/domains/nope/monitor/interactive")
        #expect(unknown.status == 404, "\(unknown.head)")
        let error = try JSONDecoder().decode(APIErrorBody.self, from: Data(unknown.body))
        #expect(error.error.code == .noDomain, "\(error)")
        #expect(error.error.message == "Domain not found: no domain with matching name 'nope'", "\(error)")
        let plain = try WebSocketProbe(socket: api, path: "/v1/domains/streamed/monitor/command", upgrade: false)
        #expect(plain.status == 400, "\(plain.head)")
        #expect(String(decoding: plain.body, as: UTF8.self).contains("is a WebSocket stream"))

        _ = try await client.perform(.destroy, "streamed")
        let stopped = try WebSocketProbe(socket: api, path: "/v1/domains/streamed/monitor/command")
        #expect(stopped.status == 409, "not running: \(stopped.head)")
        #expect(GuestHarness.processes(mentioning: uuid).isEmpty)
        #expect(harness.leftovers().isEmpty, "left: \(harness.leftovers())")
    }
}

/// A minimal blocking WebSocket client over a UNIX socket: the upgrade request, masked frames
/// out, unmasked frames in. Closes its socket when it goes.
final class WebSocketProbe: @unchecked Sendable {
    let descriptor: FileDescriptor
    private(set) var status = 0
    private(set) var head = ""
    private(set) var body: [UInt8] = []
    private var buffer: [UInt8] = []

    /// Connects and sends `GET path` (with the upgrade headers unless `upgrade` is false); reads
    /// the answer's head, and its body unless the answer is 101.
    init(socket: String, path: String, upgrade: Bool = true) throws {
        descriptor = try UnixSocket.connect(to: FilePath(socket))
        var request = "GET \(path) HTTP/1.1\r\nHost: localhost\r\n"
        if upgrade {
            request += "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            request += "Sec-WebSocket-Version: 13\r\n"
        }
        _ = try descriptor.writeAll(Array((request + "\r\n").utf8))
        let deadline = Date().addingTimeInterval(10)
        let separator = Array("\r\n\r\n".utf8)
        var end: Int?
        while end == nil {
            end = buffer.indices.first { buffer[$0...].starts(with: separator) }
            if end == nil { guard try fill(until: deadline) else { throw HarnessError("no answer head: \(buffer)") } }
        }
        let headEnd = (end ?? 0) + separator.count
        head = String(decoding: buffer[..<headEnd], as: UTF8.self)
        buffer.removeSubrange(..<headEnd)
        status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
        guard status != 101 else { return }
        let lengthLine = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
        let length = Int(lengthLine?.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "") ?? 0
        while buffer.count < length { guard try fill(until: deadline) else { break } }
        body = Array(buffer.prefix(length))
    }

    deinit { try? descriptor.close() }

    /// Sends one masked frame.
    func send(opcode: UInt8, _ payload: [UInt8]) throws {
        precondition(payload.count < 126, "the probe sends short frames only")
        let mask: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]
        var frame: [UInt8] = [0x80 | opcode, 0x80 | UInt8(payload.count)] + mask
        frame += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        _ = try descriptor.writeAll(frame)
    }

    /// Reads data frames until their text contains `marker` (or, with nil, until a close frame);
    /// the text, and the close frame's code if one came.
    /// ``receiveBlocking(until:timeout:)`` on a thread of its own (see ``OffPool``). One call at
    /// a time: the probe is not shared between tasks.
    func receive(until marker: String?, timeout: Double) async throws -> (String, Int?) {
        try await OffPool.run { try self.receiveBlocking(until: marker, timeout: timeout) }
    }

    func receiveBlocking(until marker: String?, timeout: Double) throws -> (String, Int?) {
        let deadline = Date().addingTimeInterval(timeout)
        var data: [UInt8] = []
        while Date() < deadline {
            while let (opcode, payload) = nextFrame() {
                if opcode == 0x8 {
                    let code = payload.count >= 2 ? Int(payload[0]) << 8 | Int(payload[1]) : nil
                    return (String(decoding: data, as: UTF8.self), code)
                }
                #expect(opcode == 0x2 || opcode == 0x0, "socket bytes come as binary frames")
                data += payload
                if let marker, String(decoding: data, as: UTF8.self).contains(marker) {
                    return (String(decoding: data, as: UTF8.self), nil)
                }
            }
            guard try fill(until: deadline) else { break }
        }
        return (String(decoding: data, as: UTF8.self), nil)
    }

    /// One whole server frame from the buffer, if there is one.
    private func nextFrame() -> (UInt8, [UInt8])? {
        guard buffer.count >= 2 else { return nil }
        var length = Int(buffer[1] & 0x7F)
        var offset = 2
        if length == 126 {
            guard buffer.count >= 4 else { return nil }
            length = Int(buffer[2]) << 8 | Int(buffer[3])
            offset = 4
        } else if length == 127 {
            guard buffer.count >= 10 else { return nil }
            length = buffer[2..<10].reduce(0) { $0 << 8 | Int($1) }
            offset = 10
        }
        guard buffer.count >= offset + length else { return nil }
        let frame = (buffer[0] & 0x0F, Array(buffer[offset..<offset + length]))
        buffer.removeSubrange(..<(offset + length))
        return frame
    }

    /// Reads what has arrived by `deadline`; false at end of file or timeout.
    private func fill(until deadline: Date) throws -> Bool {
        var poller = pollfd(fd: descriptor.rawValue, events: Int16(POLLIN), revents: 0)
        while Date() < deadline {
            guard poll(&poller, 1, 100) >= 0 else { return false }
            if poller.revents != 0 {
                var chunk = [UInt8](repeating: 0, count: 4096)
                let count = read(descriptor.rawValue, &chunk, chunk.count)
                if count <= 0 { return false }
                buffer += chunk[..<count]
                return true
            }
        }
        return false
    }
}
