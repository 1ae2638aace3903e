import Foundation
import VirtKitAPI
import VirtKitClient

/// Starts a session virtkitd for the calling user when none answers, as libvirt's client
/// autostarts a session libvirtd: `virtkitd --session --detach`, found beside `virtkit`.
enum SessionDaemonLauncher {
    static func start(socketPath: String) async throws(APIError) {
        let me = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let beside = me.deletingLastPathComponent().appendingPathComponent("virtkitd").path
        let executable = FileManager.default.isExecutableFile(atPath: beside) ? beside : "/usr/local/bin/virtkitd"
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw APIError(.noConnect, "Failed to connect socket to '\(socketPath)' and no virtkitd to start (looked for \(beside))")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["--session", "--detach"]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch {
            throw APIError(.noConnect, "cannot start \(executable): \(error)")
        }
        let client = DaemonClient(socketPath: socketPath)
        for _ in 0..<100 {
            if (try? await client.version()) != nil { return }
            try? await Task.sleep(for: .milliseconds(50))
        }
        throw APIError(.noConnect, "started \(executable) --session, but it does not answer on '\(socketPath)'")
    }
}
