import Foundation

extension QMP {
    /// An asynchronous QMP event: `{"event": NAME, "data": {...}, "timestamp": {"seconds": s,
    /// "microseconds": us}}`.
    public struct Event: Sendable, Equatable {
        /// The event's name as QEMU spells it, e.g. "SHUTDOWN".
        public var name: String
        /// The `data` member; an empty object when QEMU sent none.
        public var data: QMP.Value
        /// When QEMU emitted it (host clock); the epoch when QEMU sent no timestamp.
        public var timestamp: Date

        public init(name: String, data: QMP.Value = .object([:]), timestamp: Date = Date(timeIntervalSince1970: 0)) {
            self.name = name
            self.data = data
            self.timestamp = timestamp
        }

        /// Reads an event message; nil when `message` has no string `event` member.
        public init?(message: QMP.Value) {
            guard let name = message["event"]?.string else { return nil }
            let seconds = message["timestamp"]?["seconds"]?.double ?? 0
            let microseconds = message["timestamp"]?["microseconds"]?.double ?? 0
            self.init(
                name: name,
                data: message["data"] ?? .object([:]),
                timestamp: Date(timeIntervalSince1970: seconds + microseconds / 1_000_000)
            )
        }

        /// The event as one of the kinds VirtKit acts on.
        public var kind: Kind { Kind(name: name) }
    }
}

extension QMP.Event {
    /// The events the daemon acts on, by name; anything else is ``other(_:)``.
    public enum Kind: Sendable, Equatable, Hashable {
        /// SHUTDOWN: the guest or the host asked QEMU to stop (`data.guest`, `data.reason`).
        case shutdown
        /// STOP: the VM paused.
        case stop
        /// RESUME: the VM runs again.
        case resume
        /// RESET: the VM reset (`data.guest`, `data.reason`).
        case reset
        /// POWERDOWN: an ACPI power button press was sent to the guest.
        case powerdown
        /// VSERPORT_CHANGE: a virtio-serial port opened or closed in the guest (`data.id`, `data.open`).
        case vserportChange
        /// GUEST_PANICKED: the guest reported a panic (`data.action`, `data.info`).
        case guestPanicked
        /// DEVICE_DELETED: a device was unplugged (`data.device`, `data.path`).
        case deviceDeleted
        /// Any other event, by name.
        case other(String)

        /// The kind for an event name.
        public init(name: String) {
            switch name {
            case "SHUTDOWN": self = .shutdown
            case "STOP": self = .stop
            case "RESUME": self = .resume
            case "RESET": self = .reset
            case "POWERDOWN": self = .powerdown
            case "VSERPORT_CHANGE": self = .vserportChange
            case "GUEST_PANICKED": self = .guestPanicked
            case "DEVICE_DELETED": self = .deviceDeleted
            default: self = .other(name)
            }
        }

        /// The event name as QEMU spells it.
        public var name: String {
            switch self {
            case .shutdown: "SHUTDOWN"
            case .stop: "STOP"
            case .resume: "RESUME"
            case .reset: "RESET"
            case .powerdown: "POWERDOWN"
            case .vserportChange: "VSERPORT_CHANGE"
            case .guestPanicked: "GUEST_PANICKED"
            case .deviceDeleted: "DEVICE_DELETED"
            case .other(let name): name
            }
        }
    }
}
