import Dispatch
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// Runs a host tool to its end (`nft -f FILE`), argv only, and hands back its exit status and
/// what it printed: for the few tools VirtKit drives instead of speaking their protocol.
public enum ToolRunner {
    public struct Outcome: Sendable, Equatable {
        /// The exit status (128 + the signal for a killed tool).
        public var status: Int32
        /// Its stdout and stderr together, at most 64 KiB.
        public var output: String
    }

    /// Runs `arguments` (argv[0] included) of `executable`; the reading and the wait happen off
    /// the caller's thread.
    public static func run(_ executable: FilePath, _ arguments: [String]) async throws(HostError) -> Outcome {
        var ends: [Int32] = [0, 0]
        // Close-on-exec right after: ProcessSpawner closes every descriptor a child is not given.
        guard pipe(&ends) == 0, fcntl(ends[0], F_SETFD, FD_CLOEXEC) == 0, fcntl(ends[1], F_SETFD, FD_CLOEXEC) == 0 else { throw HostError("cannot make a pipe for", executable.string, Errno(rawValue: errno)) }
        let reader = ends[0]
        let pid: pid_t
        do {
            defer { close(ends[1]) }
            pid = try ProcessSpawner.spawn(executable: executable, arguments: arguments,
                                           environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"],
                                           output: FileDescriptor(rawValue: ends[1]), placements: [])
        } catch {
            close(reader)
            throw error
        }
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var bytes: [UInt8] = []
                var chunk = [UInt8](repeating: 0, count: 4096)
                while true {
                    let n = read(reader, &chunk, chunk.count)
                    if n > 0 {
                        if bytes.count < 65536 { bytes += chunk[0..<n] }
                    } else if n < 0 && errno == EINTR {
                        continue
                    } else {
                        break
                    }
                }
                close(reader)
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                let exit = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
                continuation.resume(returning: Outcome(status: exit, output: String(decoding: bytes, as: UTF8.self)))
            }
        }
    }
}
