import CVirtKitHost
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// UNIX stream sockets at paths of any length.
///
/// `sockaddr_un` holds 108 bytes, so a path longer than that cannot be bound or connected to
/// directly. VirtKit opens the socket's directory (open(2) takes up to 4096 bytes) and binds
/// through `/proc/self/fd/N/NAME`, which is short; QEMU is then handed the listening descriptor
/// and never sees the path.
public enum UnixSocket {
    /// The most bytes a path can have for a direct bind or connect (`UNIX_PATH_MAX` less the NUL).
    public static let maximumDirectPathLength = 107

    /// Creates a listening socket at `path` with permissions `mode`, removing a stale socket file
    /// first. A path that exists and is not a socket is refused. The descriptor is close-on-exec.
    public static func listen(at path: FilePath, mode: FilePermissions = [.ownerReadWrite],
                              backlog: Int32 = 16) throws(HostError) -> FileDescriptor {
        let (directory, name) = try split(path)
        let dirFD = try openDirectory(directory, for: path)
        defer { try? dirFD.close() }
        var info = stat()
        if fstatat(dirFD.rawValue, name, &info, AT_SYMLINK_NOFOLLOW) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFSOCK else {
                throw HostError("refusing to replace a file that is not a socket", path.string, .fileExists)
            }
            // A socket file someone still listens on is busy; only a dead one is replaced.
            let probe = vk_connect_unix_at(dirFD.rawValue, name)
            if probe >= 0 {
                close(probe)
                throw HostError("UNIX socket path is in use by another listener", path.string, .addressInUse)
            }
            unlinkat(dirFD.rawValue, name, 0)
        }
        let fd = vk_listen_unix_at(dirFD.rawValue, name, UInt32(mode.rawValue), backlog)
        if fd < 0 { throw HostError("cannot listen on UNIX socket", path.string, Errno(rawValue: -fd)) }
        return FileDescriptor(rawValue: fd)
    }

    /// Connects to the socket at `path`, whatever its length.
    public static func connect(to path: FilePath) throws(HostError) -> FileDescriptor {
        if path.string.utf8.count <= maximumDirectPathLength {
            let fd = vk_connect_unix_at(AT_FDCWD, path.string)
            if fd < 0 { throw HostError("cannot connect to UNIX socket", path.string, Errno(rawValue: -fd)) }
            return FileDescriptor(rawValue: fd)
        }
        let (directory, name) = try split(path)
        let dirFD = try openDirectory(directory, for: path)
        defer { try? dirFD.close() }
        let fd = vk_connect_unix_at(dirFD.rawValue, name)
        if fd < 0 { throw HostError("cannot connect to UNIX socket", path.string, Errno(rawValue: -fd)) }
        return FileDescriptor(rawValue: fd)
    }

    /// Opens the socket at `path` to a group: owner and group read-write (0660), group `group`.
    /// Called on a socket created 0600, so nobody in the group can connect before it is theirs.
    public static func share(_ path: FilePath, withGroup group: gid_t) throws(HostError) {
        if lchown(path.string, uid_t.max, group) != 0 || chmod(path.string, 0o660) != 0 {
            throw HostError("cannot give UNIX socket to its group", path.string, Errno(rawValue: errno))
        }
    }

    /// Lets group `group` reach into directory `path` (0750, the group's).
    public static func shareDirectory(_ path: FilePath, withGroup group: gid_t) throws(HostError) {
        if chown(path.string, uid_t.max, group) != 0 || chmod(path.string, 0o750) != 0 {
            throw HostError("cannot give directory to its group", path.string, Errno(rawValue: errno))
        }
    }

    /// Removes the socket file at `path` if it is one; anything else is left alone.
    public static func remove(at path: FilePath) {
        var info = stat()
        guard lstat(path.string, &info) == 0, (info.st_mode & S_IFMT) == S_IFSOCK else { return }
        unlink(path.string)
    }

    static func split(_ path: FilePath) throws(HostError) -> (FilePath, String) {
        guard path.isAbsolute, let last = path.lastComponent, path.components.count >= 1 else {
            throw HostError("socket path must be absolute", path.string, .invalidArgument)
        }
        return (path.removingLastComponent(), last.string)
    }

    /// Linux's O_PATH, which Glibc's Swift overlay does not import.
    static let openPath: Int32 = 0o10000000

    static func openDirectory(_ directory: FilePath, for path: FilePath) throws(HostError) -> FileDescriptor {
        let fd = open(directory.string, openPath | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw HostError("cannot open the directory of UNIX socket", path.string, Errno(rawValue: errno)) }
        return FileDescriptor(rawValue: fd)
    }
}
