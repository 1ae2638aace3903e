import Foundation
import SystemPackage
import VirtKitHost

/// What virtkitd writes about a running guest, atomically, so that a new virtkitd can find it
/// again after a restart or a `kill -9` (libvirt's status XML, as JSON).
public struct GuestStatus: Codable, Sendable, Equatable {
    public var name: String
    public var uuid: String
    /// The runtime id (`virsh list`'s Id).
    public var id: Int
    /// QEMU's pid and kernel start time: a recycled pid never passes for it.
    public var process: ProcessIdentity
    public var emulator: String
    /// The accelerator QEMU was started with.
    public var accelerator: String
    public var monitorPath: String
    public var guestDirectory: String
    /// Socket files VirtKit created (listening sockets it passed to QEMU): removed at stop.
    public var createdSockets: [String]
    /// Each pre-opened descriptor: number, label and what it is.
    public var descriptors: [DescriptorRecord]
    /// pty paths QEMU allocated, by chardev alias (`serial0` -> `/dev/pts/3`).
    public var ptys: [String: String]
    /// virtio channel name -> whether a guest program holds it open (VSERPORT_CHANGE).
    public var channels: [String: Bool]
    public var paused: Bool
    /// Set once a stop is under way, so a restart does not count the exit as a crash, and
    /// goes on with it.
    public var stopping: StopKind?
    /// When a shutdown's power button gives way to the rest of the ladder, in seconds since
    /// 1970 (the status's ISO 8601 dates keep whole seconds only): a restarted daemon waits out
    /// what is left of it.
    public var stopDeadline: Double?
    public var startedAt: Date
    /// The monitor channels' TCP ports (MONPORT, CTLPORT), re-bound after a daemon restart.
    public var monitorPorts: MonitorPorts?
    /// Why TCP monitoring is off for this guest, when it is.
    public var monitorTCPDisabledReason: String?
    /// The chardevs virtkitd is QEMU's peer on (its console broker), re-attached after a restart.
    public var brokered: [BrokeredChardev]?
    /// The taps of the interfaces that have one, by alias (`net0`).
    public var taps: [String: Tap]?
    /// The NICs whose link `domif-setlink` set down, by alias.
    public var linksDown: [String]?

    /// A tap virtkitd made for an interface and the bridge it plugged it into.
    public struct Tap: Codable, Sendable, Equatable {
        public var name: String
        public var bridge: String
    }

    public struct MonitorPorts: Codable, Sendable, Equatable {
        public var monitor: Int
        public var command: Int
    }

    public enum StopKind: String, Codable, Sendable { case shutdown, destroy }

    public struct DescriptorRecord: Codable, Sendable, Equatable {
        public var number: Int32
        public var label: String
        public var purpose: String
    }

    func write(to path: FilePath) throws(HostError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        guard let data = try? encoder.encode(self) else {
            throw HostError("cannot encode status", name, .invalidArgument)
        }
        // Under the run directory (a tmpfs for the system daemon): atomic, not fsynced; it must
        // survive a daemon crash, which it does, not a host reboot, after which no guest runs.
        try AtomicFile.write(Array(data), to: path, durable: false)
    }

    static func read(from path: FilePath) -> GuestStatus? {
        guard let bytes = AtomicFile.read(path) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try? decoder.decode(GuestStatus.self, from: Data(bytes))
    }
}
