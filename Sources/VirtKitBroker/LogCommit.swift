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
/// A kill lands when a system call returns, so a daemon killed in the consuming `recv` dies with
/// the bytes taken and the record still set. The record therefore also says whether the consume
/// happened, in a way the kernel writes: the consuming `recvmsg` puts the last byte it takes
/// into the record's ``mark`` (see ``PeerSocketReader/consume(_:mark:)``), which ``begin``
/// set to the complement of that byte.
///
/// The record is a small file mapped shared: a store is in the page cache at once, and a killed
/// process cannot lose it (only a host crash can, and then QEMU is gone too).
final class LogCommit {
    /// Words: state (0 idle, 1 pending without a mark, 2 pending with one), pending byte count,
    /// the log's inode, its size before, and the last pending byte beside the mark.
    private static let words = 5
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

    /// What a killed daemon left pending: the byte count, where the log stood, and whether the
    /// bytes were consumed from the socket already (nil when a record without a mark cannot tell).
    var pending: (count: Int, inode: UInt64, size: Int, consumed: Bool?)? {
        guard words[0] == 1 || words[0] == 2 else { return nil }
        let consumed: Bool? = words[0] == 2 ? lastByte.pointee == mark.pointee : nil
        return (Int(words[1]), words[2], Int(words[3]), consumed)
    }

    /// The byte the consuming `recvmsg` writes: the last one it takes.
    var mark: UnsafeMutablePointer<UInt8> {
        UnsafeMutableRawPointer(words + 4).assumingMemoryBound(to: UInt8.self) + 1
    }

    private var lastByte: UnsafeMutablePointer<UInt8> {
        UnsafeMutableRawPointer(words + 4).assumingMemoryBound(to: UInt8.self)
    }

    /// `count` bytes ending in `last` are about to be logged at `position`, then consumed.
    func begin(count: Int, position: (inode: UInt64, size: Int), last: UInt8) {
        words[1] = UInt64(count)
        words[2] = position.inode
        words[3] = UInt64(position.size)
        lastByte.pointee = last
        mark.pointee = ~last
        // The fields before the flag: a reader after a kill sees the flag only with them.
        atomicMemoryFence(ordering: .releasing)
        words[0] = 2
    }

    /// The bytes are logged and consumed.
    func end() {
        words[0] = 0
    }
}
