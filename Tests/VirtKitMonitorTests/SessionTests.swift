import Testing
import VirtKitQMP
@testable import VirtKitMonitor

/// The session state machine, without I/O.
@Suite("Monitor session")
struct SessionTests {
    private let banner = MonitorSession.banner(version: QMP.Version(major: 7, minor: 2, micro: 22))
    private let prompt = Array("(qemu) ".utf8)

    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func bannerMatchesQEMU() {
        #expect(banner == "QEMU 7.2.22 monitor - type 'help' for more information\r\n(qemu) ")
    }

    @Test func interactiveHMPRunsOneCommandAtATime() {
        var session = MonitorSession(channel: .interactive, maxLineLength: 100)
        #expect(session.connected(banner: banner) == [.write(bytes(banner))])
        #expect(session.received(bytes("  ")) == [.write(prompt)])
        #expect(session.received(bytes(" info status ")) == [.run(.hmp("info status"))])
        #expect(session.mode == .hmp)
        // Queued behind the running command, in order.
        #expect(session.received(bytes("info name")).isEmpty)
        #expect(session.received(bytes("")).isEmpty)
        #expect(session.queuedBytes == 11)
        #expect(session.finished(.text("VM status: paused (prelaunch)\r\n")) == [
            .write(bytes("VM status: paused (prelaunch)\r\n(qemu) ")), .run(.hmp("info name")),
        ])
        #expect(session.finished(.text("")) == [.write(prompt), .write(prompt)])
        // A JSON line in HMP mode is HMP.
        #expect(session.received(bytes("{\"execute\":\"stop\"}")) == [.run(.hmp("{\"execute\":\"stop\"}"))])
        #expect(session.finished(.text("refused")) == [.write(bytes("refused\r\n(qemu) "))])
        #expect(session.event(bytes("{}")).isEmpty)
    }

    @Test func interactiveQMPAfterAJSONFirstLine() {
        var session = MonitorSession(channel: .interactive, maxLineLength: 100)
        _ = session.connected(banner: banner)
        #expect(session.received(bytes(#"{"execute": "qmp_capabilities", "id": 1}"#)) == [
            .subscribeEvents, .write(bytes(#"{"return":{},"id":1}"# + "\r\n")),
        ])
        #expect(session.mode == .qmp)
        #expect(session.received(bytes(#"{"execute":"qmp_capabilities"}"#)) == [
            .write(bytes(#"{"error":{"class":"CommandNotFound","desc":"Capabilities negotiation is already complete, command ignored"}}"# + "\r\n"))
        ])
        #expect(session.received(bytes("   ")).isEmpty)
        #expect(session.received(bytes("info status")) == [
            .write(bytes(#"{"error":{"class":"GenericError","desc":"JSON parse error"}}"# + "\r\n"))
        ])
        #expect(session.received(bytes("[1]")) == [
            .write(bytes(#"{"error":{"class":"GenericError","desc":"QMP input must be a JSON object"}}"# + "\r\n"))
        ])
        #expect(session.received(bytes(#"{"execute":"stop","id":"x"}"#)) == [.run(.qmp(["execute": "stop", "id": "x"]))])
        #expect(session.event(bytes("E\r\n")) == [.write(bytes("E\r\n"))])
        #expect(session.finished(.reply(["return": [:], "id": "x"])) == [.write(bytes(#"{"return":{},"id":"x"}"# + "\r\n"))])
    }

    @Test func commandChannelAnswersOnceAndCloses() {
        var session = MonitorSession(channel: .command, maxLineLength: 100)
        #expect(session.connected(banner: banner).isEmpty)
        #expect(session.received(bytes("")).isEmpty)
        #expect(session.received(bytes("info name")) == [.cancelIdleTimer, .run(.hmp("info name"))])
        #expect(session.received(bytes("info status")).isEmpty)
        #expect(session.finished(.text("vkmon-guest\r\n")) == [.write(bytes("vkmon-guest\r\n")), .close])
        #expect(session.isClosing)
    }

    @Test func commandChannelRefusesQMPCapabilities() {
        var session = MonitorSession(channel: .command, maxLineLength: 100)
        let actions = session.received(bytes(#"{"execute":"qmp_capabilities","id":7}"#))
        #expect(actions == [
            .cancelIdleTimer,
            .write(bytes(#"{"error":{"class":"GenericError","desc":"qmp_capabilities is not used on the command channel: send the command itself"},"id":7}"# + "\r\n")),
            .close,
        ])
    }

    @Test func idleTimeoutOnlyBeforeTheCommand() {
        var idle = MonitorSession(channel: .command, maxLineLength: 100)
        #expect(idle.idleTimedOut(after: .seconds(10)) == [
            .write(bytes("error: no command received within 10.0 seconds\r\n")), .close,
        ])
        var busy = MonitorSession(channel: .command, maxLineLength: 100)
        _ = busy.received(bytes("info status"))
        #expect(busy.idleTimedOut(after: .seconds(10)).isEmpty)
    }

    @Test func halfCloseAnswersThenCloses() {
        var session = MonitorSession(channel: .interactive, maxLineLength: 100)
        _ = session.connected(banner: banner)
        #expect(session.received(bytes("info name")) == [.run(.hmp("info name"))])
        #expect(session.inputClosed().isEmpty)
        #expect(session.finished(.text("x\r\n")) == [.write(bytes("x\r\n(qemu) ")), .close])
        var silent = MonitorSession(channel: .command, maxLineLength: 100)
        #expect(silent.inputClosed() == [.close])
    }

    @Test func badLinesGetErrors() {
        var session = MonitorSession(channel: .interactive, maxLineLength: 100)
        #expect(session.received([0x69, 0x00, 0x01]) == [.write(bytes("error: control characters in the command line\r\n(qemu) "))])
        #expect(session.received([0xC3, 0x28]) == [.write(bytes("error: the command line is not valid UTF-8\r\n(qemu) "))])
        #expect(session.lineTooLong() == [.cancelIdleTimer, .write(bytes("error: line longer than 100 bytes\r\n")), .close])
        #expect(session.received(bytes("info status")).isEmpty)
        #expect(session.finished(.text("late")).isEmpty)
    }
}

@Suite("Monitor session queue")
struct SessionQueueTests {
    @Test func emptyLinesCountAndDrainInOrder() {
        var session = MonitorSession(channel: .interactive, maxLineLength: 100)
        #expect(session.received(Array("info status".utf8)) == [.run(.hmp("info status"))])
        for _ in 0..<5000 { _ = session.received([]) }
        _ = session.received(Array("info name".utf8))
        #expect(session.queuedBytes == 5000 + 10)
        let actions = session.finished(.text(""))
        #expect(actions.count == 5002)
        #expect(actions.last == .run(.hmp("info name")))
        #expect(session.queuedBytes == 0)
    }
}
