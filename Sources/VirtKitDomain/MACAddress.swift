/// Ethernet MAC addresses as libvirt reads and writes them (`virMacAddrParse`,
/// `virMacAddrFormat`): six bytes of one or two hex digits separated by ':', written lower-case
/// with two digits each; generated ones start with QEMU's 52:54:00.
public enum MACAddress {
    /// The six bytes of `text`, or nil when it is not a MAC address.
    public static func parse(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard (1...2).contains(part.utf8.count), let byte = UInt8(part, radix: 16) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }

    /// `bytes` as libvirt writes them: `52:54:00:0a:cd:21`.
    public static func format(_ bytes: [UInt8]) -> String {
        bytes.map { b in String(b >> 4, radix: 16) + String(b & 0xF, radix: 16) }.joined(separator: ":")
    }

    /// `text` in libvirt's form, or nil when it is not a MAC address.
    public static func normalise(_ text: String) -> String? {
        parse(text).map(format)
    }

    /// A group address (the low bit of the first byte set): not an interface's.
    public static func isMulticast(_ bytes: [UInt8]) -> Bool {
        (bytes.first ?? 0) & 1 == 1
    }

    /// A random address under QEMU's prefix 52:54:00, as libvirt's `virMacAddrGenerate`.
    public static func random() -> String {
        var rng = SystemRandomNumberGenerator()
        return format([0x52, 0x54, 0x00] + (0..<3).map { _ in UInt8.random(in: 0...255, using: &rng) })
    }
}
