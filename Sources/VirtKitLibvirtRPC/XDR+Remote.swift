import VirtKitXDR

// remote_protocol.x's common shapes on the XDR reader and writer.

extension XDRReader {
    /// `remote_nonnull_domain`.
    public mutating func readDomain() throws(XDRError) -> RemoteDomain { try RemoteDomain.decode(from: &self) }

    /// `remote_nonnull_string`.
    public mutating func readRemoteString(what: String = "string") throws(XDRError) -> String {
        try readString(limit: RPCLimits.stringMax, what: what)
    }

    /// `remote_string`: an optional string.
    public mutating func readOptionalRemoteString(what: String = "string") throws(XDRError) -> String? {
        try readOptional { reader throws(XDRError) in try reader.readString(limit: RPCLimits.stringMax, what: what) }
    }
}

extension XDRWriter {
    public mutating func write(_ domain: RemoteDomain) { domain.encode(to: &self) }

    /// A C string as rpcgen's `char name<N>`: the count, then each byte as a 4-byte int, the
    /// terminating NUL included (clients copy it as a C string).
    public mutating func writeCharArray(_ text: String) {
        let bytes = Array(text.utf8) + [0]
        write(UInt32(bytes.count))
        for byte in bytes { write(UInt32(byte)) }
    }

    /// A fixed `char name[N]`: N 4-byte ints, the text NUL-padded (node info's CPU model).
    public mutating func writeFixedCharArray(_ text: String, count: Int) {
        let bytes = Array(text.utf8.prefix(count - 1))
        for index in 0..<count { write(UInt32(index < bytes.count ? bytes[index] : 0)) }
    }
}
