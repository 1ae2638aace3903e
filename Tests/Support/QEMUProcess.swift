import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real `qemu-system-x86_64` for tests: started with the arguments a test gives (built from a
/// fresh short directory under /tmp, so socket paths fit), stdout discarded, stderr in
/// `DIR/qemu.log`; always killed, reaped and its directory removed when `with` returns.
public struct QEMUProcess: Sendable {
    public let process: Process
    /// The private directory, /tmp/PREFIX-XXXXXX: short enough for any socket path inside it.
    public let directory: String

    /// The error a test sees when QEMU did not come up: what QEMU printed.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public var logPath: String { directory + "/qemu.log" }
    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
    public var isRunning: Bool { process.isRunning }

    /// Starts QEMU with `arguments(directory)`, runs `body`, and always cleans up.
    public static func with(
        prefix: String, arguments: (String) -> [String], _ body: (QEMUProcess) async throws -> Void
    ) async throws {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw Failure(description: "mkdtemp: errno \(errno)") }
        let directory = String(cString: made)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["qemu-system-x86_64"] + arguments(directory)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        let qemu = QEMUProcess(process: process, directory: directory)
        _ = FileManager.default.createFile(atPath: qemu.logPath, contents: nil)
        let log = FileHandle(forWritingAtPath: qemu.logPath)
        process.standardError = log
        defer {
            try? log?.close()
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            try? FileManager.default.removeItem(atPath: directory)
        }
        try process.run()
        try await body(qemu)
    }

    /// Waits until `path` exists (QEMU created its socket); throws with QEMU's words if QEMU
    /// exits or 10 s pass first.
    public func waitForFile(_ path: String) async throws {
        for _ in 0..<500 {
            if FileManager.default.fileExists(atPath: path) { return }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw Failure(description: "\(path) never appeared; QEMU said: \(log)")
    }
}
