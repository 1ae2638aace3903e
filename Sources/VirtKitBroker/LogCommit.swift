#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import SystemPackage

/// The commit record that makes a socket chardev's log exactly-once across `kill -9`: before
/// bytes peeked from QEMU's socket are logged, the record says how many and where the log stood;
/// once they are consumed from the socket, it is cleared. A daemon killed in between leaves the
/// bytes in the socket (kept open by the descriptor holder) and the record set; the next one
/// reads how many of them reached the log (``RotatingLog/bytesWritten(since:path:)``) and
/// consumes those without logging them again.
///
/// The record is a small file mapped shared: a store is in the page cache at once, and a killed
/// process cannot lose it (only a host crash can, and then QEMU is gone too).
final class LogCommit {
    /// Words: state (0 idle, 1 pending), pending byte count, the log's inode, its size before.
    private static let words = 4
    private let words: UnsafeMutablePointer<UInt64>
    let path: FilePath

    private init(path: FilePath, words: UnsafeMutablePointer<UInt64>) {
        self.path = path
        self.words = words
    }

    deinit {
        munmap(words, Self.words * 8)
    }

    /// Opens (or creates, 0600) the record at `path`.
    static func open(_ path: FilePath) throws(Errno) -> LogCommit {
        let fd = Glibc.open(path.string, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw Errno(rawValue: errno) }
        defer { close(fd) }
        guard ftruncate(fd, off_t(words * 8)) == 0 else { throw Errno(rawValue: errno) }
        guard let mapping = mmap(nil, words * 8, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), mapping != MAP_FAILED else {
            throw Errno(rawValue: errno)
        }
        return LogCommit(path: path, words: mapping.assumingMemoryBound(to: UInt64.self))
    }

    /// What a killed daemon left pending: the byte count and where the log stood; nil if nothing.
    var pending: (count: Int, inode: UInt64, size: Int)? {
        guard words[0] == 1 else { return nil }
        return (Int(words[1]), words[2], Int(words[3]))
    }

    /// `count` bytes are about to be logged at `position`.
    func begin(count: Int, position: (inode: UInt64, size: Int)) {
        words[1] = UInt64(count)
        words[2] = position.inode
        words[3] = UInt64(position.size)
        // The fields before the flag: a reader after a kill sees the flag only with them.
        atomicMemoryFence(ordering: .releasing)
        words[0] = 1
    }

    /// The bytes are logged and consumed.
    func end() {
        words[0] = 0
    }
}
