extension QMP.Client {
    /// `query-chardev`: every character device, in QEMU's order.
    public func queryChardev(timeout: Duration = .seconds(30)) async throws(QMP.Error) -> [QMP.ChardevInfo] {
        let reply = try await execute("query-chardev", timeout: timeout)
        guard let entries = reply.array else { throw .malformed(raw: reply.jsonString) }
        var chardevs: [QMP.ChardevInfo] = []
        for entry in entries {
            guard let chardev = QMP.ChardevInfo(entry) else { throw .malformed(raw: entry.jsonString) }
            chardevs.append(chardev)
        }
        return chardevs
    }
}
