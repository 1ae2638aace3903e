import Foundation
import SystemPackage
import VirtKitHost

/// What a start in progress has made, written before QEMU is spawned (its pid and start time
/// right after), so that a virtkitd killed in the middle of a start finds the QEMU it spawned
/// when it comes back: it finishes the start when the status was written (sends the `cont` the
/// start owed), or stops that QEMU and removes what the start made, and never starts a second
/// QEMU beside one it forgot. Removed when the start is done or undone.
struct StartIntent: Codable, Sendable, Equatable {
    var name: String
    var uuid: String
    var id: Int
    var emulator: String
    var guestDirectory: String
    var createdSockets: [String]
    /// Whether the start was asked to leave the CPUs stopped.
    var paused: Bool
    /// QEMU, once spawned.
    var process: ProcessIdentity?

    func write(to path: FilePath) throws(HostError) {
        guard let data = try? JSONEncoder().encode(self) else { throw HostError("cannot encode start record", name, .invalidArgument) }
        // Beside the status, on the run directory's filesystem: it must survive a daemon crash.
        try AtomicFile.write(Array(data), to: path, durable: false)
    }

    static func read(from path: FilePath) -> StartIntent? {
        guard let bytes = AtomicFile.read(path) else { return nil }
        return try? JSONDecoder().decode(StartIntent.self, from: Data(bytes))
    }

    /// The QEMU processes this start may have left: the recorded one if it still runs, else any
    /// running emulator whose arguments name the domain's uuid (a daemon killed between the spawn
    /// and the record of its pid).
    var leftProcesses: [ProcessIdentity] {
        if let process { return process.isAlive ? [process] : [] }
        return ProcessIdentity.running(executable: emulator).filter { $0.arguments.contains(uuid) }
    }

    /// Stops what the start left (QEMU killed and waited for) and removes its files.
    func undo(layout: RuntimeLayout) async {
        for process in leftProcesses {
            process.send(signal: SIGKILL)
            _ = await ProcessExitWatcher.waitForExit(process)
        }
        for socket in createdSockets { UnixSocket.remove(at: FilePath(socket)) }
        AtomicFile.removeTree(FilePath(guestDirectory))
        unlink(layout.statusPath(name).string)
        unlink(layout.startIntentPath(name).string)
    }
}
