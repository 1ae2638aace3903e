/// One element of a client's output stream: guest bytes, or something the broker tells it.
public enum BrokerOutput: Sendable, Hashable {
    /// Bytes the guest wrote, in order (the scrollback replay first, then live output).
    case bytes([UInt8])
    /// The client fell behind by more than its queue holds: exactly `skipped` bytes of guest
    /// output are missing at this point of the stream.
    case gap(skipped: Int)
    /// Another client took the pen with `force`; this client is read-only from here on.
    case penLost(to: String)
    /// The last element: the console is closed (the stream ends after it).
    case closed(CloseReason)

    /// This element as a terminal shows it: the bytes themselves, or a visible line such as
    /// `\r\n[virtkit: 12345 bytes skipped]\r\n`.
    public var terminalBytes: [UInt8] {
        switch self {
        case .bytes(let bytes): bytes
        case .gap(let skipped): Self.notice("\(skipped) bytes skipped")
        case .penLost(let label): Self.notice("the console was taken over by \(label); this session is now read-only")
        case .closed(.peerClosed): Self.notice("the guest side of the console closed")
        case .closed(.stopped): Self.notice("virtkitd stopped serving the console")
        }
    }

    /// `text` as a notice line of its own: `\r\n[virtkit: text]\r\n`.
    static func notice(_ text: String) -> [UInt8] {
        Array("\r\n[virtkit: \(text)]\r\n".utf8)
    }
}

/// Why a console closed.
public enum CloseReason: Sendable, Hashable, CustomStringConvertible {
    /// QEMU's side hung up (the guest stopped, or QEMU closed the chardev).
    case peerClosed
    /// The broker was stopped (``ChardevBroker/stop()``).
    case stopped

    public var description: String {
        switch self {
        case .peerClosed: "the guest side closed"
        case .stopped: "the broker stopped"
        }
    }
}
