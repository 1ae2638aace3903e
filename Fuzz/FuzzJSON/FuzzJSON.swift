import VirtKitJSON
import VirtKitText
import FuzzReplay

/// One input: QMP's and the guest agent's framing and JSON (the line scanner, the parser, the
/// writer, and the written text parsed again to the same value).
func fuzzJSON(_ bytes: UnsafeRawBufferPointer) {
    var scanner = LineScanner(maximumLineLength: 4096, delimiter: 0xFF)
    var rest = bytes[...]
    while !rest.isEmpty {
        switch scanner.next(in: rest) {
        case .needMoreData: rest = rest[rest.endIndex...]
        case .tooLong(let consumed): rest = rest.dropFirst(consumed ?? rest.count)
        case .delimiter(let consumed): rest = rest.dropFirst(consumed)
        case .line(let length, let consumed, _):
            let line = rest.prefix(length)
            rest = rest.dropFirst(consumed)
            if let value = try? JSONValue(parsing: line) {
                guard let again = try? JSONValue(parsing: value.jsonBytes), again == value || value.hasNaN else {
                    fatalError("JSON written back does not parse to the same value: \(value.jsonString)")
                }
            }
        }
    }
}

extension JSONValue {
    /// Whether a double in it is not finite (written as null, so not the same value again).
    var hasNaN: Bool {
        switch self {
        case .double(let value): !value.isFinite
        case .array(let elements): elements.contains(where: \.hasNaN)
        case .object(let object): object.members.contains { $0.value.hasNaN }
        default: false
        }
    }
}

@main
struct Fuzz {
    static func main() throws {
        try FuzzReplay.main(fuzzJSON)
    }
}
