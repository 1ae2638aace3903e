extension QMP.Client {
    /// `query-name`: the VM's `-name`, nil when it has none.
    public func queryName(timeout: Duration = .seconds(30)) async throws(QMP.Error) -> String? {
        try await execute("query-name", timeout: timeout)["name"]?.string
    }

    /// `query-version`: the running QEMU's version (the greeting carries it too).
    public func queryVersion(timeout: Duration = .seconds(30)) async throws(QMP.Error) -> QMP.Version {
        let reply = try await execute("query-version", timeout: timeout)
        guard let version = QMP.Version(reply) else { throw .malformed(raw: reply.jsonString) }
        return version
    }
}
