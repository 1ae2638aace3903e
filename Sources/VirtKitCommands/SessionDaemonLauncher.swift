import SystemPackage
import VirtKitAPI
import VirtKitClient
import VirtKitHost
#if canImport(Glibc)
import Glibc
#endif

/// Starts a session virtkitd for the calling user when none answers, as libvirt's client
/// autostarts a session libvirtd: `virtkitd --session --detach`, found beside `virtkit`, in a
/// session of its own so it outlives this command.
enum SessionDaemonLauncher {
    static func start(socketPath: String) async throws(APIError) {
        let beside = ownDirectory() + "/virtkitd"
        let executable = access(beside, X_OK) == 0 ? beside : "/usr/local/bin/virtkitd"
        guard access(executable, X_OK) == 0 else {
            throw APIError(.noConnect, "Failed to connect socket to '\(socketPath)' and no virtkitd to start (looked for \(beside))")
        }
        let devNull = open("/dev/null", O_WRONLY | O_CLOEXEC)
        defer { close(devNull) }
        var environment: [String: String] = [:]
        for name in ["HOME", "PATH", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "VIRTKIT_GUEST_DIR"] {
            if let value = getenv(name) { environment[name] = String(cString: value) }
        }
        do {
            _ = try ProcessSpawner.spawn(executable: FilePath(executable), arguments: [executable, "--session", "--detach"],
                                         environment: environment, output: FileDescriptor(rawValue: devNull), placements: [])
        } catch {
            throw APIError(.noConnect, "cannot start \(executable): \(error)")
        }
        let client = DaemonClient(socketPath: socketPath)
        for _ in 0..<200 {
            if (try? client.version()) != nil { return }
            try? await Task.sleep(for: .milliseconds(25))
        }
        throw APIError(.noConnect, "started \(executable) --session, but it does not answer on '\(socketPath)'")
    }

    /// The directory of this executable (/proc/self/exe, symlinks resolved).
    static func ownDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return "." }
        let path = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return FilePath(path).removingLastComponent().string
    }
}
