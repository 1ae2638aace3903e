/// What is wrong with XDR input: where it ended early, or what it held that it may not.
public enum XDRError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The input ended `needed` bytes short at `offset`.
    case truncated(offset: Int, needed: Int)
    /// A length above the limit the protocol sets for it.
    case tooLong(what: String, length: UInt32, limit: Int)
    /// A value outside what the type allows (a bool of 2, an unknown enum value, bad UTF-8).
    case invalid(what: String, offset: Int)
    /// Bytes left after the whole value was read.
    case trailingBytes(count: Int)

    public var description: String {
        switch self {
        case let .truncated(offset, needed): "XDR input ends at byte \(offset), \(needed) bytes short"
        case let .tooLong(what, length, limit): "XDR \(what) of \(length) bytes is over its limit of \(limit)"
        case let .invalid(what, offset): "XDR \(what) at byte \(offset) is not valid"
        case let .trailingBytes(count): "XDR input has \(count) bytes after its value"
        }
    }
}

/// Reads XDR as ``XDRWriter`` writes it, from a byte buffer, refusing truncated input, lengths
/// over their limits and invalid values with an ``XDRError``; it never traps on input.
public struct XDRReader: Sendable {
    public let bytes: [UInt8]
    public private(set) var offset: Int

    public init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    public var remaining: Int { bytes.count - offset }

    private mutating func take(_ count: Int) throws(XDRError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else { throw .truncated(offset: offset, needed: count - remaining) }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    public mutating func read(_: UInt32.Type = UInt32.self) throws(XDRError) -> UInt32 {
        let word = try take(4)
        return word.reduce(0) { $0 << 8 | UInt32($1) }
    }

    public mutating func read(_: Int32.Type) throws(XDRError) -> Int32 { Int32(bitPattern: try read(UInt32.self)) }

    public mutating func read(_: UInt64.Type) throws(XDRError) -> UInt64 {
        let high = UInt64(try read(UInt32.self))
        return high << 32 | UInt64(try read(UInt32.self))
    }

    public mutating func read(_: Int64.Type) throws(XDRError) -> Int64 { Int64(bitPattern: try read(UInt64.self)) }

    public mutating func read(_: Bool.Type) throws(XDRError) -> Bool {
        let at = offset
        switch try read(UInt32.self) {
        case 0: return false
        case 1: return true
        default: throw .invalid(what: "bool", offset: at)
        }
    }

    /// A fixed `opaque[count]` and its padding.
    public mutating func readFixedOpaque(count: Int) throws(XDRError) -> [UInt8] {
        let value = Array(try take(count))
        _ = try take((4 - count % 4) % 4)
        return value
    }

    /// A variable `opaque<limit>`.
    public mutating func readOpaque(limit: Int, what: String = "opaque") throws(XDRError) -> [UInt8] {
        let length = try read(UInt32.self)
        guard length <= limit else { throw .tooLong(what: what, length: length, limit: limit) }
        return try readFixedOpaque(count: Int(length))
    }

    /// A `string<limit>`, which must be UTF-8.
    public mutating func readString(limit: Int, what: String = "string") throws(XDRError) -> String {
        let at = offset
        let raw = try readOpaque(limit: limit, what: what)
        guard let text = String(validating: raw, as: UTF8.self) else { throw .invalid(what: what, offset: at) }
        return text
    }

    /// An optional (`type *`): the 0/1 flag, then the value when present.
    public mutating func readOptional<T>(_ body: (inout XDRReader) throws(XDRError) -> T) throws(XDRError) -> T? {
        try read(Bool.self) ? try body(&self) : nil
    }

    /// A variable array `T<limit>`.
    public mutating func readArray<T>(limit: Int, what: String = "array",
                                      _ body: (inout XDRReader) throws(XDRError) -> T) throws(XDRError) -> [T] {
        let count = try read(UInt32.self)
        guard count <= limit else { throw .tooLong(what: what, length: count, limit: limit) }
        var values: [T] = []
        values.reserveCapacity(Int(count))
        for _ in 0..<count { values.append(try body(&self)) }
        return values
    }

    /// Refuses bytes after the value.
    public func finish() throws(XDRError) {
        guard remaining == 0 else { throw .trailingBytes(count: remaining) }
    }
}
