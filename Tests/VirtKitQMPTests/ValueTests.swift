import Foundation
import Testing
@testable import VirtKitQMP

@Suite("QMP.Value JSON")
struct ValueTests {
    @Test func parsesQEMUGreetingKeepingKeyOrder() throws {
        let text = #"{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian 1:7.2"}, "capabilities": ["oob"]}}"#
        let value = try QMP.Value(json: text)
        #expect(value["QMP"]?["version"]?["qemu"]?["major"]?.int == 7)
        #expect(value["QMP"]?["capabilities"]?[0]?.string == "oob")
        #expect(value["QMP"]?["version"]?["qemu"]?.object?.keys == ["micro", "minor", "major"])
        #expect(value.jsonString == text.replacingOccurrences(of: ": ", with: ":").replacingOccurrences(of: ", ", with: ","))
    }

    @Test(arguments: [
        ("0", QMP.Value.int(0)),
        ("-12", .int(-12)),
        ("9223372036854775807", .int(Int64.max)),
        ("-9223372036854775808", .int(Int64.min)),
        ("18446744073709551615", .double(18446744073709551616)),
        ("1.5", .double(1.5)),
        ("-2e3", .double(-2000)),
        ("1E-2", .double(0.01)),
        ("true", .bool(true)),
        ("false", .bool(false)),
        ("null", .null),
        (" [ 1 , \"a\" ] ", .array([.int(1), .string("a")])),
        ("{}", .object([:])),
        ("[]", .array([])),
    ])
    func parsesScalarsAndContainers(text: String, expected: QMP.Value) throws {
        #expect(try QMP.Value(json: text) == expected)
    }

    @Test func decodesEscapes() throws {
        let value = try QMP.Value(json: #""a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00\ud800x""#)
        #expect(value.string == "a\"b\\c/d\u{8}\u{c}\n\r\t\u{e9}\u{1F600}\u{FFFD}x")
    }

    @Test func keepsRawUTF8() throws {
        #expect(try QMP.Value(json: "\"Grüße ✓\"").string == "Grüße ✓")
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\" 1}", "{\"a\":1,}", "01", "1.", ".5", "-", "1e", "tru", "nul",
        "\"abc", "\"a\u{1}b\"", "\"\\x\"", "\"\\u12g4\"", "1 2", "{\"a\":1}}", "'a'", "NaN",
    ])
    func rejectsInvalidJSON(text: String) {
        #expect(throws: QMP.Error.self) { try QMP.Value(json: text) }
    }

    @Test func refusesDeepNestingWithoutCrashing() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: QMP.Error.self) { try QMP.Value(json: deep) }
        let fine = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        #expect(try QMP.Value(json: fine).array?.count == 1)
    }

    @Test func malformedKeepsTheStartOfTheText() {
        let long = "x" + String(repeating: "y", count: 10_000)
        #expect(throws: QMP.Error.malformed(raw: String(long.prefix(QMP.Error.excerptLength)))) {
            try QMP.Value(json: long)
        }
    }

    @Test func serialisesCompactlyWithEscapes() {
        let value: QMP.Value = [
            "execute": "human-monitor-command",
            "arguments": ["command-line": "say \"hi\"\\\n\t\u{1}é"],
            "n": [1, 2.5, -0.0, true, nil],
            "inf": .double(.infinity),
        ]
        #expect(value.jsonString == #"{"execute":"human-monitor-command","arguments":{"command-line":"say \"hi\"\\\n\t\u0001é"},"n":[1,2.5,-0.0,true,null],"inf":null}"#)
    }

    @Test func roundTripsThroughItsOwnParser() throws {
        let value: QMP.Value = ["z": 1, "a": ["nested": [1, "two", ["three": nil]]], "m": 1e300, "s": "\u{1F600}\u{0}"]
        let again = try QMP.Value(json: value.jsonBytes)
        #expect(again == value)
        #expect(again.jsonString == value.jsonString)
    }

    @Test func objectsCompareWithoutOrderAndKeepInsertionOrder() {
        var object: QMP.Value.Object = ["b": 1, "a": 2]
        #expect(QMP.Value.object(object) == .object(["a": 2, "b": 1]))
        #expect(QMP.Value.object(object).hashValue == QMP.Value.object(["a": 2, "b": 1]).hashValue)
        object["c"] = 3
        object["b"] = 4
        #expect(object.keys == ["b", "a", "c"])
        object["a"] = nil
        #expect(object.keys == ["b", "c"])
        #expect(object["c"] == 3)
        #expect(object.dictionary == ["b": 4, "c": 3])
        #expect(QMP.Value.Object(["y": 1, "x": 2] as [String: QMP.Value]).keys == ["x", "y"])
    }

    @Test func accessors() {
        let value: QMP.Value = ["i": 5, "d": 2.0, "h": 2.5, "s": "x", "b": false, "n": nil, "a": [1]]
        #expect(value["i"]?.int == 5)
        #expect(value["d"]?.int == 2)
        #expect(value["h"]?.int == nil)
        #expect(value["h"]?.double == 2.5)
        #expect(value["i"]?.double == 5)
        #expect(value["s"]?.string == "x")
        #expect(value["s"]?.int == nil)
        #expect(value["b"]?.bool == false)
        #expect(value["n"]?.isNull == true)
        #expect(value["a"]?[0] == 1)
        #expect(value["a"]?[1] == nil)
        #expect(value["missing"] == nil)
        #expect(value[0] == nil)
        #expect(value.description == value.jsonString)
    }

    @Test func codableRoundTripThroughFoundation() throws {
        let value: QMP.Value = ["a": [1, 2.5, "x", true, nil], "b": ["c": -3]]
        let data = try JSONEncoder().encode(value)
        let decoded = try JSONDecoder().decode(QMP.Value.self, from: data)
        #expect(decoded == value)
        struct Wrapper: Codable, Equatable { var payload: QMP.Value }
        let wrapper = Wrapper(payload: ["x": 1])
        #expect(try JSONDecoder().decode(Wrapper.self, from: JSONEncoder().encode(wrapper)) == wrapper)
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
