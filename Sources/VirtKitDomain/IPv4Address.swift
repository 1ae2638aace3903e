/// A dotted-quad IPv4 address, parsed without the resolver (the guestfwd target is numeric).
struct IPv4Address: Equatable {
    var octets: (UInt8, UInt8, UInt8, UInt8)

    static func == (a: IPv4Address, b: IPv4Address) -> Bool {
        a.octets == b.octets
    }

    static func parse(_ text: String) -> IPv4Address? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var values: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), let value = UInt8(part) else { return nil }
            values.append(value)
        }
        return IPv4Address(octets: (values[0], values[1], values[2], values[3]))
    }

    var text: String { "\(octets.0).\(octets.1).\(octets.2).\(octets.3)" }
}
