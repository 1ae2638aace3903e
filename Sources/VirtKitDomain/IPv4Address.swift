/// A dotted-quad IPv4 address, parsed without the resolver (the guestfwd target is numeric).
struct IPv4Address: Equatable {
    var octets: (UInt8, UInt8, UInt8, UInt8)

    static func == (a: IPv4Address, b: IPv4Address) -> Bool {
        a.octets == b.octets
    }

    static func parse(_ text: String) -> IPv4Address? {
        if let address = parseDigitsAndDots(text) { return address }
        return parseGeneral(text)
    }

    /// The usual case, on bytes: only ASCII digits and dots. Nil when the text is anything else
    /// or no address; ``parseGeneral(_:)`` then decides.
    private static func parseDigitsAndDots(_ text: String) -> IPv4Address? {
        var octets: [UInt8] = []
        octets.reserveCapacity(4)
        var value = 0, digits = 0
        for byte in text.utf8 {
            switch byte {
            case 0x30...0x39:
                value = value * 10 + Int(byte - 0x30)
                digits += 1
                guard digits <= 3, value <= 255 else { return nil }
            case 0x2E:
                guard digits > 0, octets.count < 3 else { return nil }
                octets.append(UInt8(value))
                value = 0
                digits = 0
            default:
                return nil
            }
        }
        guard digits > 0, octets.count == 3 else { return nil }
        return IPv4Address(octets: (octets[0], octets[1], octets[2], UInt8(value)))
    }

    private static func parseGeneral(_ text: String) -> IPv4Address? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var values: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), let value = UInt8(part) else { return nil }
            values.append(value)
        }
        return IPv4Address(octets: (values[0], values[1], values[2], values[3]))
    }

    var text: String {
        var out = UTF8Buffer(capacity: 15)
        out.append(decimal: UInt64(octets.0))
        out.append(0x2E)
        out.append(decimal: UInt64(octets.1))
        out.append(0x2E)
        out.append(decimal: UInt64(octets.2))
        out.append(0x2E)
        out.append(decimal: UInt64(octets.3))
        return out.string
    }
}
