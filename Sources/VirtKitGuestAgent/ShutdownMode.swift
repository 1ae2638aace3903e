extension GuestAgent {
    /// How `guest-shutdown` stops the guest (its `mode`).
    public enum ShutdownMode: String, Sendable, Hashable, CaseIterable {
        /// `powerdown`: power off (the agent's default).
        case powerdown
        /// `reboot`.
        case reboot
        /// `halt`: stop without powering off.
        case halt
    }
}
