import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// Files written so that a reader, or a crash, never sees half of one: a temporary file beside
/// the target, rename over it; when `durable`, the file is fsynced before the rename, as libvirt's
/// `virFileRewrite` does, so a power cut leaves the old file or the new one, never an empty or a
/// torn one (definitions are durable; files under /run, a tmpfs, need not be). The directory is
/// not synced (nor is it by libvirt): a rename lost to a power cut leaves the old file.
public enum AtomicFile {
    public static func write(_ bytes: [UInt8], to path: FilePath,
                             permissions: FilePermissions = [.ownerReadWrite], durable: Bool = true) throws(HostError) {
        let temporary = FilePath(path.string + ".tmp-\(getpid())")
        do {
            // Close-on-exec: a QEMU spawned meanwhile must not inherit the file being written.
            let fd = try FileDescriptor.open(temporary, .writeOnly, options: [.create, .truncate, .closeOnExec],
                                             permissions: permissions)
            try fd.closeAfter {
                _ = try fd.writeAll(bytes)
                if durable, fsync(fd.rawValue) != 0 { throw Errno(rawValue: errno) }
            }
            if rename(temporary.string, path.string) != 0 { throw Errno(rawValue: errno) }
        } catch {
            unlink(temporary.string)
            throw HostError("cannot write", path.string, (error as? Errno) ?? .ioError)
        }
    }

    /// Creates `path`, which must not exist, with `bytes`: for a file in a directory just made,
    /// that nothing reads before it is complete (no temporary file, no rename). A failure
    /// removes what was created.
    public static func create(_ bytes: [UInt8], at path: FilePath,
                              permissions: FilePermissions = [.ownerReadWrite]) throws(HostError) {
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(path, .writeOnly, options: [.create, .exclusiveCreate, .closeOnExec],
                                         permissions: permissions)
        } catch {
            throw HostError("cannot create", path.string, (error as? Errno) ?? .ioError)
        }
        do {
            try fd.closeAfter { _ = try fd.writeAll(bytes) }
        } catch {
            unlink(path.string)
            throw HostError("cannot write", path.string, (error as? Errno) ?? .ioError)
        }
    }

    public static func write(_ text: String, to path: FilePath,
                             permissions: FilePermissions = [.ownerReadWrite], durable: Bool = true) throws(HostError) {
        try write(Array(text.utf8), to: path, permissions: permissions, durable: durable)
    }

    /// The whole file, nil when it cannot be read.
    public static func read(_ path: FilePath) -> [UInt8]? {
        guard let fd = try? FileDescriptor.open(path, .readOnly) else { return nil }
        defer { try? fd.close() }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            guard let n = try? buffer.withUnsafeMutableBytes({ try fd.read(into: $0) }), n > 0 else { break }
            bytes += buffer[0..<n]
        }
        return bytes
    }

    /// Creates `path` and its missing parents with `permissions` (existing ones are left as they are).
    public static func makeDirectory(_ path: FilePath, permissions: FilePermissions = [.ownerReadWriteExecute]) throws(HostError) {
        var current = FilePath("/")
        for component in path.components {
            current.append(component)
            if mkdir(current.string, permissions.rawValue) != 0, errno != EEXIST {
                throw HostError("cannot create directory", current.string, Errno(rawValue: errno))
            }
        }
    }

    /// Removes a file or an empty directory tree below and including `path`; missing is fine.
    public static func removeTree(_ path: FilePath) {
        var info = stat()
        guard lstat(path.string, &info) == 0 else { return }
        if (info.st_mode & S_IFMT) == S_IFDIR, let dir = opendir(path.string) {
            var names: [String] = []
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                if name != "." && name != ".." { names.append(name) }
            }
            closedir(dir)
            for name in names { removeTree(path.appending(name)) }
            rmdir(path.string)
        } else {
            unlink(path.string)
        }
    }
}
