import VirtKitJSON

extension GuestAgent.Client {
    /// `guest-ping`: returns when the agent answers.
    public func ping(timeout: Timeout = .default) async throws(GuestAgent.Error) {
        _ = try await execute("guest-ping", timeout: timeout)
    }

    /// `guest-info`: the agent's version and the commands it knows.
    public func info(timeout: Timeout = .default) async throws(GuestAgent.Error) -> GuestAgent.Info {
        try GuestAgent.Info(await execute("guest-info", timeout: timeout))
    }

    /// `guest-get-time`: the guest's clock, in nanoseconds since the Unix epoch.
    public func time(timeout: Timeout = .default) async throws(GuestAgent.Error) -> Int64 {
        let value = try await execute("guest-get-time", timeout: timeout)
        guard let nanoseconds = value.int64 else { throw .malformed(raw: GuestAgent.Error.excerpt(value.jsonBytes)) }
        return nanoseconds
    }

    /// `guest-get-osinfo`: the guest's operating system (os-release, uname).
    public func osInfo(timeout: Timeout = .default) async throws(GuestAgent.Error) -> GuestAgent.OSInfo {
        try GuestAgent.OSInfo(await execute("guest-get-osinfo", timeout: timeout))
    }

    /// `guest-get-host-name`: the guest's host name.
    public func hostname(timeout: Timeout = .default) async throws(GuestAgent.Error) -> String {
        let value = try await execute("guest-get-host-name", timeout: timeout)
        guard let name = value["host-name"]?.string else { throw .malformed(raw: GuestAgent.Error.excerpt(value.jsonBytes)) }
        return name
    }

    /// `guest-network-get-interfaces`: the guest's network interfaces and their addresses.
    public func networkInterfaces(timeout: Timeout = .default) async throws(GuestAgent.Error) -> [GuestAgent.NetworkInterface] {
        let value = try await execute("guest-network-get-interfaces", timeout: timeout)
        guard let list = value.array else { throw .malformed(raw: GuestAgent.Error.excerpt(value.jsonBytes)) }
        var interfaces: [GuestAgent.NetworkInterface] = []
        for entry in list { interfaces.append(try GuestAgent.NetworkInterface(entry)) }
        return interfaces
    }

    /// `guest-shutdown` with `mode`. The agent answers only when it fails, so this returns
    /// once no error came within ``errorGracePeriod`` (or the connection closed as the guest
    /// went down); that the guest actually stops is for the caller to watch (QEMU exits, or
    /// QMP's `SHUTDOWN` event).
    public func shutdown(mode: GuestAgent.ShutdownMode = .powerdown, timeout: Timeout = .default) async throws(GuestAgent.Error) {
        _ = try await execute("guest-shutdown", arguments: ["mode": .string(mode.rawValue)], timeout: timeout)
    }
}
