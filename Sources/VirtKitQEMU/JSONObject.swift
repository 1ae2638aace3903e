/// An ordered JSON object written as libvirt's `virJSONValueToString` writes QEMU's `-device`,
/// `-object` and `-netdev` arguments: keys in insertion order, no spaces, `/` not escaped.
struct JSONObject: Sendable {
    private var bytes: [UInt8] = [0x7B]  // UTF-8, cheaper to grow than a String
    private var empty = true

    init() {}

    private mutating func key(_ name: String) {
        if !empty { bytes.append(0x2C) }
        empty = false
        bytes.append(contentsOf: Self.quote(name).utf8)
        bytes.append(0x3A)
    }

    mutating func add(_ name: String, _ value: String?) {
        guard let value else { return }
        key(name)
        bytes.append(contentsOf: Self.quote(value).utf8)
    }

    mutating func add(_ name: String, _ value: Int?) {
        guard let value else { return }
        key(name)
        bytes.append(contentsOf: String(value).utf8)
    }

    mutating func add(_ name: String, _ value: UInt64) {
        key(name)
        bytes.append(contentsOf: String(value).utf8)
    }

    mutating func add(_ name: String, _ value: Bool?) {
        guard let value else { return }
        key(name)
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    /// A value already written as JSON (an array or object).
    mutating func addRaw(_ name: String, _ json: String) {
        key(name)
        bytes.append(contentsOf: json.utf8)
    }

    var string: String { String(decoding: bytes + [0x7D], as: UTF8.self) }

    static func quote(_ value: String) -> String {
        if !value.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
            return "\"" + value + "\""
        }
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
