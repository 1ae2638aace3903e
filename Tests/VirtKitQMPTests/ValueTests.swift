import Foundation
import Testing
@testable import VirtKitQMP

@Suite("QMP values, events and errors")
struct ValueTests {
    @Test func malformedKeepsTheStartOfTheText() {
        let long = "x" + String(repeating: "y", count: 10_000)
        #expect(throws: QMP.Error.malformed(raw: String(long.prefix(QMP.Error.excerptLength)))) {
            try QMP.Value(json: long)
        }
    }

    @Test func eventsAndGreetingsFromMessages() throws {
        let event = try #require(QMP.Event(message: try QMP.Value(json:
            #"{"timestamp": {"seconds": 1795281099, "microseconds": 671418}, "event": "SHUTDOWN", "data": {"guest": false, "reason": "host-qmp-quit"}}"#)))
        #expect(event.kind == .shutdown)
        #expect(event.data["reason"] == "host-qmp-quit")
        #expect(abs(event.timestamp.timeIntervalSince1970 - 1795281099.671418) < 0.001)
        #expect(QMP.Event.Kind(name: "VSERPORT_CHANGE") == .vserportChange)
        #expect(QMP.Event.Kind(name: "BLOCK_JOB_READY") == .other("BLOCK_JOB_READY"))
        for kind in [QMP.Event.Kind.shutdown, .stop, .resume, .reset, .powerdown, .vserportChange, .guestPanicked, .deviceDeleted] {
            #expect(QMP.Event.Kind(name: kind.name) == kind)
        }
        #expect(QMP.Event(message: ["return": [:]]) == nil)
        #expect(QMP.Greeting(message: ["QMP": ["capabilities": []]]) == nil)
    }

    @Test func errorDescriptions() {
        #expect(QMP.Error.commandFailed(class: "GenericError", description: "boom").description == "QMP error GenericError: boom")
        #expect(QMP.Error.timeout(command: "stop").description.contains("stop"))
    }
}
