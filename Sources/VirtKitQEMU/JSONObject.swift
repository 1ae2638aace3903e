import VirtKitDomain

/// An ordered JSON object written as libvirt's `virJSONValueToString` writes QEMU's `-device`,
/// `-object` and `-netdev` arguments: keys in insertion order, no spaces, `/` not escaped.
struct JSONObject: Sendable {
    private var buffer = UTF8Buffer(capacity: 128)
    private var empty = true

    init() {
        buffer.append(0x7B)
    }

    private mutating func key(_ name: String) {
        if !empty { buffer.append(0x2C) }
        empty = false
        Self.appendQuoted(name, to: &buffer)
        buffer.append(0x3A)
    }

    mutating func add(_ name: String, _ value: String?) {
        guard let value else { return }
        key(name)
        Self.appendQuoted(value, to: &buffer)
    }

    mutating func add(_ name: String, _ value: Int?) {
        guard let value else { return }
        key(name)
        buffer.append(decimal: value)
    }

    mutating func add(_ name: String, _ value: UInt64) {
        key(name)
        buffer.append(decimal: value)
    }

    mutating func add(_ name: String, _ value: Bool?) {
        guard let value else { return }
        key(name)
        buffer.append(value ? "true" : "false")
    }

    /// A string value written piece by piece into `write`'s buffer, then quoted: for values built
    /// from parts (`virtio-serial0.0`), without an intermediate `String`. The pieces must not need
    /// JSON escaping.
    mutating func add(_ name: String, unescaped write: (inout UTF8Buffer) -> Void) {
        key(name)
        buffer.append(0x22)
        write(&buffer)
        buffer.append(0x22)
    }

    /// A value already written as JSON (an array or object).
    mutating func addRaw(_ name: String, _ json: String) {
        key(name)
        buffer.append(json)
    }

    var string: String {
        var closed = buffer
        closed.append(0x7D)
        return closed.string
    }

    static func quote(_ value: String) -> String {
        var out = UTF8Buffer(capacity: value.utf8.count + 2)
        appendQuoted(value, to: &out)
        return out.string
    }

    /// `value` as a JSON string. Escaping works on bytes: every byte it rewrites is ASCII, and the
    /// bytes of a multi-byte UTF-8 sequence are all >= 0x80, so they are copied as they are.
    static func appendQuoted(_ value: String, to out: inout UTF8Buffer) {
        out.append(0x22)
        if !needsEscaping(value) {
            out.append(value)
        } else {
            for byte in value.utf8 {
                switch byte {
                case 0x22: out.append("\\\"")
                case 0x5C: out.append("\\\\")
                case 0x0A: out.append("\\n")
                case 0x0D: out.append("\\r")
                case 0x09: out.append("\\t")
                case 0x08: out.append("\\b")
                case 0x0C: out.append("\\f")
                case ..<0x20:
                    out.append("\\u00")
                    out.append(hex: UInt32(byte), width: 2)
                default: out.append(byte)
                }
            }
        }
        out.append(0x22)
    }

    private static func needsEscaping(_ value: String) -> Bool {
        func special(_ byte: UInt8) -> Bool { byte < 0x20 || byte == 0x22 || byte == 0x5C }
        let scanned = value.utf8.withContiguousStorageIfAvailable { bytes in
            for byte in bytes where special(byte) { return true }
            return false
        }
        return scanned ?? value.utf8.contains(where: special)
    }
}
