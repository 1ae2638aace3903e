import SystemPackage
import VirtKitAPI
import VirtKitHost
#if canImport(Glibc)
import Glibc
#endif

/// One daemon per run directory: an exclusive `flock` on `virtkitd.lock`, held for the daemon's
/// life (the kernel drops it if the daemon dies, even by SIGKILL), plus a check that nobody else
/// answers on the API socket before it is replaced.
struct DaemonLock: Sendable {
    let descriptor: FileDescriptor

    static func acquire(_ path: FilePath, socketPath: FilePath) throws(APIError) -> DaemonLock {
        guard let fd = try? FileDescriptor.open(path, .readWrite, options: [.create, .closeOnExec],
                                                permissions: [.ownerReadWrite]) else {
            throw APIError(.systemError, "cannot open lock file '\(path.string)': \(Errno(rawValue: errno))")
        }
        if flock(fd.rawValue, LOCK_EX | LOCK_NB) != 0 {
            try? fd.close()
            throw APIError(.operationInvalid, "another virtkitd already runs with '\(path.removingLastComponent().string)'")
        }
        if let client = try? UnixSocket.connect(to: socketPath) {
            try? client.close()
            try? fd.close()
            throw APIError(.operationInvalid, "another process answers on '\(socketPath.string)'")
        }
        _ = try? fd.resize(to: 0)
        _ = try? fd.writeAll(Array("\(getpid())\n".utf8))
        return DaemonLock(descriptor: fd)
    }

    func release() {
        try? descriptor.close()
    }
}
