/// Writes XDR (RFC 4506) as rpcgen does for libvirt's protocol: big-endian 4-byte units;
/// strings and variable opaques as a length, the bytes and zero padding to 4; optionals as a
/// 0/1 flag then the value.
public struct XDRWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(reservingCapacity capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func write(_ value: UInt32) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 24))
        bytes.append(UInt8(truncatingIfNeeded: value >> 16))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    public mutating func write(_ value: Int32) { write(UInt32(bitPattern: value)) }

    /// `hyper` and `unsigned hyper`: 8 bytes, high word first.
    public mutating func write(_ value: UInt64) {
        write(UInt32(truncatingIfNeeded: value >> 32))
        write(UInt32(truncatingIfNeeded: value))
    }

    public mutating func write(_ value: Int64) { write(UInt64(bitPattern: value)) }

    /// `bool`: an int, 0 or 1.
    public mutating func write(_ value: Bool) { write(UInt32(value ? 1 : 0)) }

    /// A fixed `opaque[N]` (a uuid's 16 bytes): the bytes and padding, no length.
    public mutating func writeFixedOpaque(_ value: some Collection<UInt8>) {
        bytes.append(contentsOf: value)
        pad(value.count)
    }

    /// A variable `opaque<>`: the length, the bytes, padding.
    public mutating func writeOpaque(_ value: some Collection<UInt8>) {
        write(UInt32(truncatingIfNeeded: value.count))
        writeFixedOpaque(value)
    }

    /// A `string<>`: its UTF-8 as a variable opaque.
    public mutating func write(_ value: String) { writeOpaque(Array(value.utf8)) }

    /// An optional (`type *` in rpcgen): a 0/1 flag, then the value when present.
    public mutating func writeOptional<T>(_ value: T?, _ body: (inout XDRWriter, T) -> Void) {
        write(value != nil)
        if let value { body(&self, value) }
    }

    /// A variable array `T<>`: the count, then each element.
    public mutating func writeArray<T>(_ values: [T], _ body: (inout XDRWriter, T) -> Void) {
        write(UInt32(truncatingIfNeeded: values.count))
        for value in values { body(&self, value) }
    }

    /// Bytes as they are, with no length and no padding: a stream packet's raw data, or an
    /// already encoded value.
    public mutating func writeRaw(_ value: some Collection<UInt8>) { bytes.append(contentsOf: value) }

    /// Overwrites the 4 bytes at `offset` (a length written before it was known).
    public mutating func overwrite(_ value: UInt32, at offset: Int) {
        bytes[offset] = UInt8(truncatingIfNeeded: value >> 24)
        bytes[offset + 1] = UInt8(truncatingIfNeeded: value >> 16)
        bytes[offset + 2] = UInt8(truncatingIfNeeded: value >> 8)
        bytes[offset + 3] = UInt8(truncatingIfNeeded: value)
    }

    private mutating func pad(_ count: Int) {
        let padding = (4 - count % 4) % 4
        if padding > 0 { bytes.append(contentsOf: repeatElement(0, count: padding)) }
    }
}
