#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SystemPackage

/// A UNIX socket file this server bound, remembered by device and inode so that removing it
/// never removes a socket someone else has bound at the same path since.
struct BoundSocketFile: Sendable {
    let path: FilePath
    private let identity: (device: UInt64, inode: UInt64)?

    init(path: FilePath) {
        self.path = path
        identity = Self.identity(of: path)
    }

    /// Unlinks the file if it is still the one bound.
    func remove() {
        guard let identity, let current = Self.identity(of: path), current == identity else { return }
        unlink(path.string)
    }

    private static func identity(of path: FilePath) -> (device: UInt64, inode: UInt64)? {
        var info = stat()
        guard lstat(path.string, &info) == 0 else { return nil }
        return (UInt64(info.st_dev), UInt64(info.st_ino))
    }
}
