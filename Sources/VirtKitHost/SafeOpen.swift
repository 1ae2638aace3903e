import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// Opening a file that a domain names (a file chardev's source, a chardev's log) for QEMU to
/// write: virtkitd may run as root, and the path may be a symbolic link someone else planted.
public enum SafeOpen {
    /// Opens `path` for writing, created if missing (0600), appended to when `append`, never
    /// truncated (the caller truncates once nothing can fail the start any more). A symbolic
    /// link is followed only when it belongs to this process's user, as the kernel's
    /// protected_symlinks allows in sticky directories.
    public static func forWriting(_ path: FilePath, append: Bool) throws(HostError) -> FileDescriptor {
        var options: FileDescriptor.OpenOptions = [.create, .closeOnExec, .noFollow]
        if append { options.insert(.append) }
        do {
            return try FileDescriptor.open(path, .writeOnly, options: options, permissions: [.ownerReadWrite])
        } catch Errno.tooManySymbolicLinkLevels {
            var link = stat()
            guard lstat(path.string, &link) == 0 else { throw HostError("cannot open file", path.string, Errno(rawValue: errno)) }
            guard link.st_uid == geteuid() else {
                throw HostError("refusing to follow a symbolic link owned by uid \(link.st_uid) at", path.string, .notPermitted)
            }
            options.remove(.noFollow)
            do {
                return try FileDescriptor.open(path, .writeOnly, options: options, permissions: [.ownerReadWrite])
            } catch {
                throw HostError("cannot open file", path.string, (error as? Errno) ?? .ioError)
            }
        } catch {
            throw HostError("cannot open file", path.string, (error as? Errno) ?? .ioError)
        }
    }
}
