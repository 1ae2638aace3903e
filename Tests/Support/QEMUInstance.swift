import Foundation
import Testing
import VirtKitQMP

#if canImport(Glibc)
import Glibc
#endif

/// A real `qemu-system-x86_64`, paused with `-S`, named ``guestName``, with its QMP socket in
/// a short temp dir (on ``QEMUProcess``): the one QEMU instance helper of the suites that talk
/// to QEMU's monitor without a guest.
public struct QEMUInstance: Sendable {
    public static let guestName = "vkmon-guest"

    public let qemu: QEMUProcess
    public var process: Process { qemu.process }
    public var directory: String { qemu.directory }
    public var socketPath: String { directory + "/qmp.sock" }

    /// Starts QEMU with `extraArguments`, runs `body`, and always kills QEMU and removes the
    /// directory.
    public static func with(extraArguments: [String] = [], _ body: (QEMUInstance) async throws -> Void) async throws {
        try await QEMUProcess.with(prefix: "vkm", arguments: { directory in
            ["-machine", "q35", "-accel", "tcg", "-m", "64M", "-nodefaults", "-no-user-config", "-display", "none",
             "-S", "-name", guestName, "-qmp", "unix:\(directory)/qmp.sock,server=on,wait=off"] + extraArguments
        }) { qemu in
            let instance = QEMUInstance(qemu: qemu)
            try await qemu.waitForFile(instance.socketPath)
            try await body(instance)
        }
    }

    /// Connects a client, retrying briefly while QEMU starts listening.
    public func connect() async throws -> QMP.Client {
        var attempt = 0
        while true {
            do {
                return try await QMP.Client.connect(unixPath: socketPath, timeout: .seconds(10))
            } catch {
                attempt += 1
                guard case .connectFailed(_, let code) = error, code == ECONNREFUSED || code == ENOENT, attempt < 50
                else { throw error }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Waits up to `timeout` for QEMU to exit; its exit status, nil when it still runs.
    public func waitForExit(timeout: Duration = .seconds(10)) async throws -> Int32? {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while process.isRunning, clock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.isRunning ? nil : process.terminationStatus
    }
}
