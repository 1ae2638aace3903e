import VirtKitJSON

extension QMP.Value {
    /// Parses one JSON text, as QEMU sends on one line.
    ///
    /// - Throws: ``QMP/Error/malformed(raw:)`` with (the start of) the text when it is not JSON.
    public init(json bytes: some Collection<UInt8>) throws(QMP.Error) {
        do {
            self = try JSONValue(parsing: bytes)
        } catch {
            throw .malformed(raw: QMP.Error.excerpt(bytes))
        }
    }

    /// Parses one JSON text from a string.
    public init(json text: String) throws(QMP.Error) {
        try self.init(json: Array(text.utf8))
    }
}
