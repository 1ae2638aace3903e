import Foundation
import Testing
import VirtKitQMP
import VirtKitTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A real `qemu-system-x86_64`, paused with `-S`, named ``guestName``, with its QMP socket in
/// a short temp dir (on VirtKitTestSupport's QEMUProcess).
struct QEMUInstance {
    static let guestName = "vkmon-guest"

    let qemu: QEMUProcess
    var process: Process { qemu.process }
    var directory: String { qemu.directory }
    var socketPath: String { directory + "/qmp.sock" }

    /// Starts QEMU with `extraArguments`, runs `body`, and always kills QEMU and removes the
    /// directory.
    static func with(extraArguments: [String] = [], _ body: (QEMUInstance) async throws -> Void) async throws {
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
    func connect() async throws -> QMP.Client {
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
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
