#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import SystemPackage

/// A console log file with virtlogd's rotation (see ``ChardevBroker/LogConfiguration``).
///
/// Written straight from the broker's read path, so it holds every byte the guest wrote
/// whatever the clients do. Writes go to the page cache with `write(2)` (no fsync per write;
/// ``close()`` syncs once). Failures never stop the console: the first failed write (disk
/// full, I/O error) is logged once at error level, the bytes that could not be written are
/// counted in ``bytesLost``, and every later write tries again; when one succeeds, a line
/// `[virtkit: N bytes of console output were not logged: ERROR]` is written into the log at
/// the hole and the recovery is logged at warning level.
///
/// Not thread-safe: the broker's event loop owns it.
final class RotatingLog {
    private let configuration: ChardevBroker.LogConfiguration
    private let logger: Logger
    private var descriptor: FileDescriptor?
    /// Set by ``close()``: nothing is written or opened after it.
    private var closed = false
    /// Bytes in the current file.
    private(set) var size = 0
    /// Whether the current file is empty or ends with a newline.
    private var atLineStart = true
    /// The error of the current failure episode, nil while writes succeed.
    private var failure: Errno?
    /// Bytes lost in the current failure episode.
    private var lostInEpisode = 0
    /// Bytes that could not be written, since the log was opened.
    private(set) var bytesLost = 0
    /// The current failure, for status reports.
    var currentFailure: Errno? { failure }

    /// Cut a full file after a newline when one falls within this many bytes of its end.
    private var lineWindow: Int { min(1024, configuration.maxSize / 2) }

    /// Opens (or creates) the log for appending.
    init(configuration: ChardevBroker.LogConfiguration, logger: Logger) throws(BrokerError) {
        self.configuration = configuration
        self.logger = logger
        do {
            let descriptor = try Self.open(configuration)
            self.descriptor = descriptor
            var status = stat()
            if fstat(descriptor.rawValue, &status) == 0 { size = Int(status.st_size) }
            atLineStart = size == 0
        } catch {
            throw .logOpenFailed(path: configuration.path, errno: error)
        }
    }

    deinit {
        try? descriptor?.close()
    }

    /// Appends `bytes`, rotating first whenever the current file would pass its max size.
    func append(_ bytes: ArraySlice<UInt8>) {
        guard !closed else { return }
        let maxSize = configuration.maxSize
        var rest = bytes
        while !rest.isEmpty {
            guard maxSize > 0, size + rest.count > maxSize else {
                write(rest)
                return
            }
            let room = maxSize - size
            var cut = room
            let windowStart = rest.startIndex + max(0, room - lineWindow)
            if let newline = rest[windowStart..<(rest.startIndex + room)].lastIndex(of: UInt8(ascii: "\n")) {
                cut = newline + 1 - rest.startIndex
            } else if atLineStart, size > 0, room <= lineWindow {
                cut = 0
            }
            if cut > 0 { write(rest.prefix(cut)) }
            rest = rest.dropFirst(cut)
            rotate()
        }
    }

    /// Syncs and closes the file; later appends are dropped.
    func close() {
        closed = true
        guard let descriptor else { return }
        self.descriptor = nil
        _ = fsync(descriptor.rawValue)
        try? descriptor.close()
    }

    // MARK: Writing

    private func write(_ bytes: ArraySlice<UInt8>) {
        guard let descriptor = descriptor ?? reopen() else {
            lose(bytes.count, failure ?? .badFileDescriptor)
            return
        }
        if let failure {
            // Recovering: mark the hole in the log before the new bytes.
            let marker = BrokerOutput.notice("\(lostInEpisode) bytes of console output were not logged: \(failure)")
            guard (try? descriptor.writeAll(marker)) != nil else {
                lose(bytes.count, failure)
                return
            }
            logger.warning(
                "console log writable again", metadata: ["log": "\(configuration.path)", "lost": "\(lostInEpisode)"])
            size += marker.count
            self.failure = nil
            lostInEpisode = 0
        }
        do {
            let written = try descriptor.writeAll(bytes)
            size += written
            if let last = bytes.last { atLineStart = last == UInt8(ascii: "\n") }
        } catch {
            // writeAll does not say how much went out before the error; fstat does.
            var status = stat()
            let before = size
            if fstat(descriptor.rawValue, &status) == 0 { size = Int(status.st_size) }
            lose(max(0, bytes.count - (size - before)), error as? Errno ?? .ioError)
        }
    }

    /// Opens the log again after an open failed (not after ``close()``).
    private func reopen() -> FileDescriptor? {
        guard !closed, let descriptor = try? Self.open(configuration) else { return nil }
        self.descriptor = descriptor
        var status = stat()
        size = fstat(descriptor.rawValue, &status) == 0 ? Int(status.st_size) : 0
        return descriptor
    }

    private func lose(_ count: Int, _ error: Errno) {
        bytesLost += count
        lostInEpisode += count
        guard failure == nil else { return }
        failure = error
        logger.error(
            "cannot write the console log; clients are still served, output is not logged until writes succeed",
            metadata: ["log": "\(configuration.path)", "error": "\(error)"])
    }

    // MARK: Rotation

    /// `NAME.log.N` for backup N.
    private func backup(_ number: Int) -> String {
        configuration.path.string + ".\(number)"
    }

    /// Renames the files one step down (oldest dropped) and starts a new one. When the
    /// current file cannot be renamed away, it is kept and appended to (never truncated).
    /// The current file's inode and size: where the next byte goes, for a ``LogCommit``.
    var position: (inode: UInt64, size: Int)? {
        guard let descriptor else { return nil }
        var status = stat()
        guard fstat(descriptor.rawValue, &status) == 0 else { return nil }
        return (UInt64(status.st_ino), size)
    }

    /// How many bytes went into the log since `position` was taken, judged from the files as
    /// they are now (the current one, or, after a rotation, the first backup and the current
    /// one); nil when neither file is the one `position` named.
    static func bytesWritten(since position: (inode: UInt64, size: Int), path: FilePath) -> Int? {
        func identity(_ file: String) -> (UInt64, Int)? {
            var status = stat()
            guard stat(file, &status) == 0 else { return nil }
            return (UInt64(status.st_ino), Int(status.st_size))
        }
        if let (inode, size) = identity(path.string), inode == position.inode { return max(0, size - position.size) }
        if let (inode, size) = identity(path.string + ".1"), inode == position.inode {
            return max(0, size - position.size) + (identity(path.string)?.1 ?? 0)
        }
        return nil
    }

    private func rotate() {
        let path = configuration.path.string
        if let descriptor {
            try? descriptor.close()
            self.descriptor = nil
        }
        let moved: Bool
        if configuration.maxBackups > 0 {
            for number in stride(from: configuration.maxBackups - 1, through: 1, by: -1) {
                _ = rename(backup(number), backup(number + 1))
            }
            moved = rename(path, backup(1)) == 0 || errno == ENOENT
        } else {
            moved = unlink(path) == 0 || errno == ENOENT
        }
        if !moved {
            logger.error(
                "cannot rotate the console log; appending to it past its max size",
                metadata: ["log": "\(configuration.path)", "error": "\(Errno(rawValue: errno))"])
        }
        do {
            let descriptor = try Self.open(configuration)
            self.descriptor = descriptor
            var status = stat()
            size = fstat(descriptor.rawValue, &status) == 0 ? Int(status.st_size) : 0
            atLineStart = true
            if !moved, size >= configuration.maxSize {
                // Rotation is stuck: stop retrying on every write until the file is moved.
                size = 0
            }
        } catch {
            size = 0
            atLineStart = true
            lose(0, error)
        }
    }

    private static func open(_ configuration: ChardevBroker.LogConfiguration) throws(Errno) -> FileDescriptor {
        do {
            return try FileDescriptor.open(
                configuration.path, .writeOnly, options: [.create, .append, .closeOnExec],
                permissions: configuration.permissions)
        } catch let error as Errno {
            throw error
        } catch {
            throw .ioError
        }
    }
}
