/// Text built by appending UTF-8 bytes: the writers (XML, QEMU arguments, JSON) append many short
/// pieces, which costs a fraction of appending them to a `String` or interpolating (measured with
/// callgrind on `virtkit-bench`). Only valid UTF-8 goes in (whole strings and ASCII bytes), so
/// ``string`` never repairs anything.
///
/// The appends are `@inlinable` so that the QEMU module's writers inline them too.
package struct UTF8Buffer: Sendable {
    @usableFromInline package var bytes: [UInt8] = []

    package init(capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    package var isEmpty: Bool { bytes.isEmpty }

    /// The text written so far.
    package var string: String { String(decoding: bytes, as: UTF8.self) }

    /// One ASCII byte.
    @inlinable
    package mutating func append(_ byte: UInt8) {
        bytes.append(byte)
    }

    @inlinable
    package mutating func append(_ text: String) {
        let copied: Void? = text.utf8.withContiguousStorageIfAvailable { bytes.append(contentsOf: $0) }
        if copied == nil { bytes.append(contentsOf: text.utf8) }
    }

    package mutating func append(_ other: UTF8Buffer) {
        bytes.append(contentsOf: other.bytes)
    }

    package mutating func append(_ text: Substring) {
        let copied: Void? = text.utf8.withContiguousStorageIfAvailable { bytes.append(contentsOf: $0) }
        if copied == nil { bytes.append(contentsOf: text.utf8) }
    }

    /// `value` in decimal, as `String(value)` writes it.
    package mutating func append(decimal value: Int) {
        if value < 0 {
            bytes.append(0x2D)
            append(decimal: UInt64(value.magnitude))
        } else {
            append(decimal: UInt64(value))
        }
    }

    /// `value` in decimal, as `String(value)` writes it.
    package mutating func append(decimal value: UInt64) {
        var divisor: UInt64 = 1
        while value / divisor >= 10 { divisor *= 10 }
        while divisor > 0 {
            bytes.append(0x30 + UInt8(value / divisor % 10))
            divisor /= 10
        }
    }

    /// `value` in lower-case hexadecimal, zero-padded to at least `width` digits, no prefix, as
    /// `String(value, radix: 16)` writes it.
    package mutating func append(hex value: UInt32, width: Int = 1) {
        var digitCount = 1
        while digitCount < 8 && value >> (4 * UInt32(digitCount)) != 0 { digitCount += 1 }
        if width > digitCount {
            for _ in digitCount..<width { bytes.append(0x30) }
        }
        for i in stride(from: digitCount - 1, through: 0, by: -1) {
            let nibble = UInt8((value >> (4 * UInt32(i))) & 0xF)
            bytes.append(nibble < 10 ? 0x30 + nibble : 0x57 + nibble)
        }
    }
}
