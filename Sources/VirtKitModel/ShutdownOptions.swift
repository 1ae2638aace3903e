/// How to shut a guest down (virsh shutdown's options): the stop ladder's first rung, how long
/// it may take, and whether the caller waits for the end.
public struct ShutdownOptions: Codable, Sendable, Equatable {
    public enum Mode: String, Codable, Sendable { case acpi, agent }
    /// What a guest still running at the timeout gets: the ladder, or left alone.
    public enum OnTimeout: String, Codable, Sendable { case destroy, leave }
    public var mode: Mode
    /// Seconds to wait for the guest before `quit`, SIGTERM and SIGKILL (default 60).
    public var timeoutSeconds: Double
    /// True: answer once QEMU is gone. False: answer once the power button is pressed and let
    /// the ladder go on in the daemon (the CLI then polls the state, showing progress).
    public var wait: Bool
    public var onTimeout: OnTimeout
    public init(mode: Mode = .acpi, timeoutSeconds: Double = 60, wait: Bool = false, onTimeout: OnTimeout = .destroy) {
        self.mode = mode
        self.timeoutSeconds = timeoutSeconds
        self.wait = wait
        self.onTimeout = onTimeout
    }

    /// Missing fields take their defaults (acpi, 60 s, no wait).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        mode = try container.decodeIfPresent(Mode.self, forKey: .mode) ?? .acpi
        timeoutSeconds = try container.decodeIfPresent(Double.self, forKey: .timeoutSeconds) ?? 60
        wait = try container.decodeIfPresent(Bool.self, forKey: .wait) ?? false
        onTimeout = try container.decodeIfPresent(OnTimeout.self, forKey: .onTimeout) ?? .destroy
    }
}
