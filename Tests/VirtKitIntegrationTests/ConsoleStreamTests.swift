import Foundation
import SystemPackage
import Testing
import VirtKitTestSupport
import VirtKitAPI
import VirtKitClient
#if canImport(Glibc)
import Glibc
#endif

/// Consoles and channels as WebSocket streams of a real virtkitd (the API's side of
/// `virtkit console` and `virtkit channel`).
@Suite("WebSocket streams: consoles and channels through virtkitd", .tags(.qemu), .serialized)
struct ConsoleStreamTests {
    @Test("a read-only console gets the scrollback, a read-write one types, a channel echoes; wrong names and modes are refused")
    func consoleAndChannelStreams() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let (daemon, client) = try await DaemonProcessTests.startDaemon(harness)
        defer { daemon.send(signal: SIGKILL) }
        _ = try await client.define(xml: harness.domainXML(name: "wsc"))
        _ = try await client.start("wsc", paused: false)
        let api = harness.layout.socketPath.string

        // Joining late, read-only: the boot comes from the scrollback.
        let watcher = try WebSocketProbe(socket: api, path: "/v1/domains/wsc/console/serial0/readonly")
        #expect(watcher.status == 101, "\(watcher.head)")
        let (boot, _) = try await watcher.receive(until: "VIRTKIT-GUEST-READY", timeout: 90)
        #expect(boot.contains("VIRTKIT-GUEST-READY"), "\(boot.suffix(300))")

        // The default console, read-write: typed lines reach the shell; the watcher sees them too.
        let typist = try WebSocketProbe(socket: api, path: "/v1/domains/wsc/console")
        #expect(typist.status == 101, "\(typist.head)")
        try typist.send(opcode: 0x1, Array("echo ws-$((3*3))-typed\n".utf8))
        let (typed, _) = try await typist.receive(until: "ws-9-typed", timeout: 20)
        #expect(typed.contains("ws-9-typed"))
        let (watched, _) = try await watcher.receive(until: "ws-9-typed", timeout: 20)
        #expect(watched.contains("ws-9-typed"))

        // A virtio channel by its name: bytes in, the guest's answer out, untouched.
        let channel = try WebSocketProbe(socket: api, path: "/v1/domains/wsc/channel/org.example.echo")
        #expect(channel.status == 101, "\(channel.head)")
        try channel.send(opcode: 0x2, Array("over a websocket\n".utf8))
        let (echo, _) = try await channel.receive(until: "ECHO:OVER A WEBSOCKET\n", timeout: 20)
        #expect(echo == "ECHO:OVER A WEBSOCKET\n", "\(echo)")

        let unknown = try WebSocketProbe(socket: api, path: "/v1/domains/wsc/console/serial9")
        #expect(unknown.status == 500, "\(unknown.head)")
        let unknownError = try JSONDecoder().decode(APIErrorBody.self, from: Data(unknown.body))
        #expect(unknownError.error.message == "internal error: cannot find character device serial9")
        let mode = try WebSocketProbe(socket: api, path: "/v1/domains/wsc/console/serial0/sideways")
        #expect(mode.status == 400, "\(mode.head)")
        let notChannel = try WebSocketProbe(socket: api, path: "/v1/domains/wsc/channel/serial0")
        #expect(notChannel.status == 500, "a console is not a channel: \(notChannel.head)")

        _ = try await client.perform(.destroy, "wsc")
        #expect(harness.leftovers().isEmpty, "left: \(harness.leftovers())")
    }
}
