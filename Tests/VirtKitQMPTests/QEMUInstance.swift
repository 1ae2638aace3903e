import Foundation
import Testing
@testable import VirtKitQMP
import VirtKitTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A real `qemu-system-x86_64`, paused with `-S`, with its QMP socket in a short temp dir.
struct QEMUInstance {
    let qemu: QEMUProcess
    var process: Process { qemu.process }
    var directory: String { qemu.directory }
    var socketPath: String { directory + "/qmp.sock" }

    /// Starts QEMU, runs `body` with it, and always kills QEMU and removes the directory.
    static func with(_ body: (QEMUInstance) async throws -> Void) async throws {
        try await QEMUProcess.with(prefix: "vkq", arguments: { directory in
            ["-machine", "q35", "-accel", "tcg", "-m", "64M", "-nodefaults", "-no-user-config", "-display", "none",
             "-S", "-qmp", "unix:\(directory)/qmp.sock,server=on,wait=off"]
        }) { qemu in
            let instance = QEMUInstance(qemu: qemu)
            try await qemu.waitForFile(instance.socketPath)
            try await body(instance)
        }
    }

    /// Connects a client, retrying briefly while QEMU starts listening.
    func connect() async throws -> QMP.Client {
        var attempt = 0
        while true {
            let result: Result<QMP.Client, QMP.Error>
            do {
                result = .success(try await QMP.Client.connect(unixPath: socketPath, timeout: .seconds(10)))
            } catch {
                result = .failure(error)
            }
            attempt += 1
            guard case .failure(.connectFailed(_, let code)) = result, code == ECONNREFUSED || code == ENOENT,
                attempt < 50
            else { return try result.get() }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Waits up to `timeout` for QEMU to exit; its exit status, nil when it still runs.
    func waitForExit(timeout: Duration = .seconds(10)) async throws -> Int32? {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while process.isRunning, clock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.isRunning ? nil : process.terminationStatus
    }
}
