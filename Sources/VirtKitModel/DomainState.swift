/// A domain's state, with libvirt's names (`virsh domstate`).
public enum DomainState: String, Codable, Sendable, CaseIterable {
    case running
    case paused
    case shutoff = "shut off"
    case crashed
    /// Being started: QEMU spawned, QMP set-up not finished.
    case starting
    /// A stop is under way (powerdown sent, or going down the ladder).
    case inShutdown = "in shutdown"
}

/// Why a domain is in its state (`virsh domstate --reason`).
public enum DomainStateReason: String, Codable, Sendable {
    case unknown
    case booted
    case userRequested = "user"
    case shutdown
    case destroyed
    case crashed
    case failed
    case fromSnapshot = "from snapshot"
    case daemonRestart = "daemon restart"
}
