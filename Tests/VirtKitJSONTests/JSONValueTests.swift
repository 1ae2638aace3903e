import Foundation
import Testing
import VirtKitJSON

@Suite("JSON values: parse, write, Codable")
struct ValueTests {
    @Test func parsesQEMUGreetingKeepingKeyOrder() throws {
        let text = #"{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian 1:7.2"}, "capabilities": ["oob"]}}"#
        let value = try JSONValue(parsing: text.utf8)
        #expect(value["QMP"]?["version"]?["qemu"]?["major"]?.int == 7)
        #expect(value["QMP"]?["capabilities"]?[0]?.string == "oob")
        #expect(value["QMP"]?["version"]?["qemu"]?.object?.keys == ["micro", "minor", "major"])
        #expect(value.jsonString == text.replacingOccurrences(of: ": ", with: ":").replacingOccurrences(of: ", ", with: ","))
    }

    @Test(arguments: [
        ("0", JSONValue.int(0)),
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
    func parsesScalarsAndContainers(text: String, expected: JSONValue) throws {
        #expect(try JSONValue(parsing: text.utf8) == expected)
    }

    @Test func decodesEscapes() throws {
        let value = try JSONValue(parsing: #""a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00\ud800x""#.utf8)
        #expect(value.string == "a\"b\\c/d\u{8}\u{c}\n\r\t\u{e9}\u{1F600}\u{FFFD}x")
    }

    @Test func keepsRawUTF8() throws {
        #expect(try JSONValue(parsing: "\"Grüße ✓\"".utf8).string == "Grüße ✓")
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\" 1}", "{\"a\":1,}", "01", "1.", ".5", "-", "1e", "tru", "nul",
        "\"abc", "\"a\u{1}b\"", "\"\\x\"", "\"\\u12g4\"", "1 2", "{\"a\":1}}", "'a'", "NaN",
    ])
    func rejectsInvalidJSON(text: String) {
        #expect(throws: JSONParser.Failure.self) { try JSONValue(parsing: text.utf8) }
    }

    @Test func refusesDeepNestingWithoutCrashing() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParser.Failure.self) { try JSONValue(parsing: deep.utf8) }
        let fine = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        #expect(try JSONValue(parsing: fine.utf8).array?.count == 1)
    }

    @Test func serialisesCompactlyWithEscapes() {
        let value: JSONValue = [
            "execute": "human-monitor-command",
            "arguments": ["command-line": "say \"hi\"\\\n\t\u{1}é"],
            "n": [1, 2.5, -0.0, true, nil],
            "inf": .double(.infinity),
        ]
        #expect(value.jsonString == #"{"execute":"human-monitor-command","arguments":{"command-line":"say \"hi\"\\\n\t\u0001é"},"n":[1,2.5,-0.0,true,null],"inf":null}"#)
    }

    @Test func roundTripsThroughItsOwnParser() throws {
        let value: JSONValue = ["z": 1, "a": ["nested": [1, "two", ["three": nil]]], "m": 1e300, "s": "\u{1F600}\u{0}"]
        let again = try JSONValue(parsing: value.jsonBytes)
        #expect(again == value)
        #expect(again.jsonString == value.jsonString)
    }

    @Test func objectsCompareWithoutOrderAndKeepInsertionOrder() {
        var object: JSONValue.Object = ["b": 1, "a": 2]
        #expect(JSONValue.object(object) == .object(["a": 2, "b": 1]))
        #expect(JSONValue.object(object).hashValue == JSONValue.object(["a": 2, "b": 1]).hashValue)
        object["c"] = 3
        object["b"] = 4
        #expect(object.keys == ["b", "a", "c"])
        object["a"] = nil
        #expect(object.keys == ["b", "c"])
        #expect(object["c"] == 3)
        #expect(object.dictionary == ["b": 4, "c": 3])
        #expect(JSONValue.Object(["y": 1, "x": 2] as [String: JSONValue]).keys == ["x", "y"])
    }

    @Test func accessors() {
        let value: JSONValue = ["i": 5, "d": 2.0, "h": 2.5, "s": "x", "b": false, "n": nil, "a": [1]]
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
        let value: JSONValue = ["a": [1, 2.5, "x", true, nil], "b": ["c": -3]]
        let data = try JSONEncoder().encode(value)
        let decoded = try JSONDecoder().decode(JSONValue.self, from: data)
        #expect(decoded == value)
        struct Wrapper: Codable, Equatable { var payload: JSONValue }
        let wrapper = Wrapper(payload: ["x": 1])
        #expect(try JSONDecoder().decode(Wrapper.self, from: JSONEncoder().encode(wrapper)) == wrapper)
    }
}
