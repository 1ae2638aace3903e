extension QMP.Client {
    /// `query-status`: whether the VM runs, and QEMU's run state ("prelaunch", "running",
    /// "paused", "shutdown", "guest-panicked", "inmigrate", ...).
    public func queryStatus(timeout: Duration = .seconds(30)) async throws(QMP.Error) -> (running: Bool, status: String) {
        let reply = try await execute("query-status", timeout: timeout)
        guard let running = reply["running"]?.bool, let status = reply["status"]?.string else {
            throw .malformed(raw: reply.jsonString)
        }
        return (running, status)
    }

    /// `cont`: resumes a paused VM (also starts one created with `-S`). QEMU emits RESUME.
    public func cont(timeout: Duration = .seconds(30)) async throws(QMP.Error) {
        _ = try await execute("cont", timeout: timeout)
    }

    /// `stop`: pauses the VM. QEMU emits STOP.
    public func stop(timeout: Duration = .seconds(30)) async throws(QMP.Error) {
        _ = try await execute("stop", timeout: timeout)
    }

    /// `system_powerdown`: presses the ACPI power button; the guest decides what to do.
    /// QEMU emits POWERDOWN.
    public func systemPowerdown(timeout: Duration = .seconds(30)) async throws(QMP.Error) {
        _ = try await execute("system_powerdown", timeout: timeout)
    }

    /// `system_reset`: resets the VM like the reset button. QEMU emits RESET.
    public func systemReset(timeout: Duration = .seconds(30)) async throws(QMP.Error) {
        _ = try await execute("system_reset", timeout: timeout)
    }

    /// `quit`: asks QEMU to exit at once (SHUTDOWN with reason "host-qmp-quit" comes first).
    ///
    /// QEMU may close the socket before its reply is read, so the connection closing
    /// counts as success. Await ``waitClosed()`` to know the socket is gone.
    public func quit(timeout: Duration = .seconds(30)) async throws(QMP.Error) {
        do {
            _ = try await execute("quit", timeout: timeout)
        } catch .disconnected {
            return
        }
    }
}
