import Foundation
import Testing
@testable import VirtKitQMP

#if canImport(Glibc)
import Glibc
#endif

/// Connecting, greeting and negotiation against the fake server.
@Suite("QMP.Client connecting", .timeLimit(.minutes(3)))
struct ClientConnectTests {
    @Test func greetsNegotiatesAndIsReady() async throws {
        try await FakeQMPServer.with { server in
            let connecting = Task { try await QMP.Client.connect(unixPath: server.path) }
            let peer = try await server.accept()
            try await peer.write(FakeQMPPeer.greeting + "\r\n")
            let command = try await peer.readMessage()
            #expect(command["execute"] == "qmp_capabilities")
            #expect(command["arguments"] == nil)
            #expect(command["id"]?.int64 != nil)
            try await peer.reply(id: command["id"] ?? .null)
            let client = try await connecting.value
            #expect(client.greeting.version == QMP.Version(major: 7, minor: 2, micro: 22, package: "Debian 1:7.2+dfsg-7"))
            #expect(client.greeting.capabilities == ["oob"])
            #expect(client.isConnected)
            await client.close()
            #expect(!client.isConnected)
        }
    }

    @Test func missingSocketIsConnectFailed() async {
        await #expect(throws: QMP.Error.connectFailed(path: "/tmp/vkq-none/x.sock", errno: ENOENT)) {
            try await QMP.Client.connect(unixPath: "/tmp/vkq-none/x.sock")
        }
    }

    @Test func overlongPathIsConnectFailed() async {
        let path = "/tmp/" + String(repeating: "p", count: 200)
        await #expect(throws: QMP.Error.connectFailed(path: path, errno: ENAMETOOLONG)) {
            try await QMP.Client.connect(unixPath: path)
        }
    }

    @Test func peerClosingBeforeGreetingIsGreetingMissing() async throws {
        try await FakeQMPServer.with { server in
            let connecting = Task { try await QMP.Client.connect(unixPath: server.path) }
            try await server.accept().close()
            await #expect(throws: QMP.Error.greetingMissing) { try await connecting.value }
        }
    }

    @Test func somethingOtherThanAGreetingIsGreetingMissing() async throws {
        try await FakeQMPServer.with { server in
            let connecting = Task { try await QMP.Client.connect(unixPath: server.path) }
            let peer = try await server.accept()
            try await peer.write("{\"return\": {}}\r\n")
            await #expect(throws: QMP.Error.greetingMissing) { try await connecting.value }
        }
    }

    @Test func garbageInsteadOfAGreetingIsMalformed() async throws {
        try await FakeQMPServer.with { server in
            let connecting = Task { try await QMP.Client.connect(unixPath: server.path) }
            let peer = try await server.accept()
            try await peer.write("SSH-2.0-OpenSSH\r\n")
            await #expect(throws: QMP.Error.malformed(raw: "SSH-2.0-OpenSSH")) { try await connecting.value }
        }
    }

    @Test func silentPeerTimesOut() async throws {
        try await FakeQMPServer.with { server in
            let connecting = Task { try await QMP.Client.connect(unixPath: server.path, timeout: .milliseconds(200)) }
            let peer = try await server.accept()
            await #expect(throws: QMP.Error.timeout(command: "greeting")) { try await connecting.value }
            await peer.close()
        }
    }

    @Test func peerThatNeverAnswersCapabilitiesTimesOut() async throws {
        try await FakeQMPServer.with { server in
            // Long enough that a busy machine still delivers the greeting in time: the timeout
            // must hit qmp_capabilities, not the greeting.
            let connecting = Task { try await QMP.Client.connect(unixPath: server.path, timeout: .seconds(3)) }
            let peer = try await server.accept()
            try await peer.write(FakeQMPPeer.greeting + "\n")
            await #expect(throws: QMP.Error.timeout(command: "qmp_capabilities")) { try await connecting.value }
            await peer.close()
        }
    }

    @Test func refusedCapabilitiesIsCommandFailed() async throws {
        try await FakeQMPServer.with { server in
            let connecting = Task { try await QMP.Client.connect(unixPath: server.path) }
            let peer = try await server.accept()
            try await peer.write(FakeQMPPeer.greeting + "\n")
            let command = try await peer.readCommand()
            try await peer.send(["id": command.id, "error": ["class": "GenericError", "desc": "nope"]])
            await #expect(throws: QMP.Error.commandFailed(class: "GenericError", description: "nope")) {
                try await connecting.value
            }
        }
    }

    @Test func connectsOverAnAlreadyConnectedSocket() async throws {
        try await FakeQMPServer.with { server in
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            try #require(fd >= 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (index, byte) in server.path.utf8.enumerated() { raw[index] = byte }
            }
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            try #require(connected == 0)
            let connecting = Task { try await QMP.Client.connect(connectedSocket: fd) }
            let peer = try await server.accept()
            try await peer.greet()
            let client = try await connecting.value
            async let status = client.execute("query-status")
            let command = try await peer.readCommand()
            try await peer.reply(id: command.id, ["running": true, "status": "running"])
            #expect(try await status["status"] == "running")
            await client.close()
        }
    }

    @Test func droppingTheClientClosesTheConnection() async throws {
        try await FakeQMPServer.with { server in
            let peer: FakeQMPPeer
            do {
                let (client, connectedPeer) = try await server.connectClient()
                peer = connectedPeer
                #expect(client.isConnected)
            }
            // The server sees the end of the stream.
            await #expect(throws: FakeQMPError.peerClosed) { try await peer.readMessage() }
        }
    }
}
