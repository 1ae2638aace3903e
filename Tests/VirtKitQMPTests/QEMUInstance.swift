import Foundation
import Testing
@testable import VirtKitQMP

#if canImport(Glibc)
import Glibc
#endif

/// A real `qemu-system-x86_64`, paused with `-S`, with its QMP socket in a short temp dir.
struct QEMUInstance {
    let process: Process
    let directory: String
    let socketPath: String

    /// Starts QEMU, runs `body` with it, and always kills QEMU and removes the directory.
    static func with(_ body: (QEMUInstance) async throws -> Void) async throws {
        let directory = try makeShortTemporaryDirectory()
        let socketPath = directory + "/qmp.sock"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "qemu-system-x86_64", "-machine", "q35", "-accel", "tcg", "-m", "64M", "-nodefaults",
            "-no-user-config", "-display", "none", "-S", "-qmp", "unix:\(socketPath),server=on,wait=off",
        ]
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
        throw FakeQMPError.peerClosed
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
