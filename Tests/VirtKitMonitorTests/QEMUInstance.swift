import Foundation
import Testing
import VirtKitQMP

#if canImport(Glibc)
import Glibc
#endif

/// A real `qemu-system-x86_64`, paused with `-S`, named ``guestName``, with its QMP socket in
/// a short temp dir (adapted from VirtKitQMPTests, which this target cannot import).
struct QEMUInstance {
    static let guestName = "vkmon-guest"

    let process: Process
    let directory: String
    let socketPath: String

    /// Starts QEMU with `extraArguments`, runs `body`, and always kills QEMU and removes the
    /// directory.
    static func with(extraArguments: [String] = [], _ body: (QEMUInstance) async throws -> Void) async throws {
        let directory = try makeShortTemporaryDirectory()
        let socketPath = directory + "/qmp.sock"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "qemu-system-x86_64", "-machine", "q35", "-accel", "tcg", "-m", "64M", "-nodefaults",
            "-no-user-config", "-display", "none", "-S", "-name", guestName,
            "-qmp", "unix:\(socketPath),server=on,wait=off",
        ] + extraArguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        let logPath = directory + "/qemu.log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = FileHandle(forWritingAtPath: logPath)
        process.standardError = log
        defer {
            try? log?.close()
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            try? FileManager.default.removeItem(atPath: directory)
        }
        try process.run()
        let instance = QEMUInstance(process: process, directory: directory, socketPath: socketPath)
        try await instance.waitForSocket()
        try await body(instance)
    }

    private func waitForSocket() async throws {
        for _ in 0..<500 {
            if FileManager.default.fileExists(atPath: socketPath) { return }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let log = (try? String(contentsOfFile: directory + "/qemu.log", encoding: .utf8)) ?? ""
        Issue.record("QMP socket never appeared; QEMU said: \(log)")
        throw TestFailure("no QMP socket")
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

/// A new directory /tmp/vkm-XXXXXX: short enough for any socket path inside it.
func makeShortTemporaryDirectory() throws -> String {
    var template = Array("/tmp/vkm-XXXXXX".utf8CString)
    guard let result = mkdtemp(&template) else { throw TestFailure("mkdtemp: errno \(errno)") }
    return String(cString: result)
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
