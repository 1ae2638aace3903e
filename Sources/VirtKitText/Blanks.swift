/// The blanks VirtKit's text formats allow around a value (configuration lines, HMP command
/// lines, HTTP header values, XML text content, JSON): space, tab, CR and LF. Only these: a
/// Unicode space inside a domain name or a path is part of it.
public enum Blank {
    @inlinable
    public static func contains(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A
    }
}

extension BidirectionalCollection where Element == UInt8 {
    /// The bytes without leading and trailing ``Blank``s.
    @inlinable
    public var trimmingBlanks: SubSequence {
        guard let first = firstIndex(where: { !Blank.contains($0) }),
              let last = lastIndex(where: { !Blank.contains($0) })
        else { return self[endIndex...] }
        return self[first...last]
    }
}

extension StringProtocol where UTF8View: BidirectionalCollection {
    /// The text without leading and trailing ``Blank``s; the string itself (no copy) when it
    /// has none.
    @inlinable
    public var trimmingBlanks: String {
        guard let first = utf8.first, let last = utf8.last else { return "" }
        if !Blank.contains(first) && !Blank.contains(last) { return String(self) }
        // Blanks are single ASCII bytes, so the trimmed bytes start and end on characters.
        return String(decoding: utf8.trimmingBlanks, as: UTF8.self)
    }
}
