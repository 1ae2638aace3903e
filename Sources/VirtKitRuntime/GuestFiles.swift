import Foundation
import SystemPackage
import VirtKitHost
import VirtKitText
#if canImport(Glibc)
import Glibc
#endif

/// The files a guest's run leaves behind, and the domain log (libvirt's /var/log/libvirt/qemu/NAME.log).
enum GuestFiles {
    /// Removes what a run created: the sockets VirtKit bound, the guest's run directory, its status.
    static func remove(status: GuestStatus, layout: RuntimeLayout) {
        for socket in status.createdSockets { UnixSocket.remove(at: FilePath(socket)) }
        try? DescriptorHolder.installed?.drop(prefix: status.guestDirectory + "/")
        AtomicFile.removeTree(FilePath(status.guestDirectory))
        unlink(layout.statusPath(status.name).string)
        let link = layout.byNameDirectory.appending(status.name)
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: link.string),
           target == status.guestDirectory {
            unlink(link.string)
        }
    }

    /// `<run>/by-name/NAME` -> the guest's run directory, so a client that knows only the name
    /// (the CLI's `qemu-monitor-command`) reaches its sockets without asking the API first.
    static func linkByName(layout: RuntimeLayout, name: String, guestDirectory: FilePath) {
        try? AtomicFile.makeDirectory(layout.byNameDirectory)
        let link = layout.byNameDirectory.appending(name)
        let temporary = layout.byNameDirectory.appending(".\(name).\(getpid())")
        unlink(temporary.string)
        guard symlink(guestDirectory.string, temporary.string) == 0 else { return }
        rename(temporary.string, link.string)
    }

    /// Appends one timestamped line to the domain log.
    static func appendLog(_ path: FilePath, _ line: String) {
        guard let fd = try? FileDescriptor.open(path, .writeOnly, options: [.create, .append],
                                                permissions: [.ownerReadWrite]) else { return }
        defer { try? fd.close() }
        _ = try? fd.writeAll(Array((timestamp() + ": " + line + "\n").utf8))
    }

    /// Now in UTC, `2026-11-22T00:02:08.838Z` (ISO 8601 with milliseconds). Formatted by hand:
    /// an ISO8601DateFormatter made for each line cost every start time before QEMU ran.
    static func timestamp(at instant: timespec? = nil) -> String {
        let now = instant ?? wallClock()
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func padded(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return padded(Int(parts.tm_year) + 1900, 4) + "-" + padded(Int(parts.tm_mon) + 1, 2) + "-" + padded(Int(parts.tm_mday), 2)
            + "T" + padded(Int(parts.tm_hour), 2) + ":" + padded(Int(parts.tm_min), 2) + ":" + padded(Int(parts.tm_sec), 2)
            + "." + padded(Int(now.tv_nsec / 1_000_000), 3) + "Z"
    }

    /// The wall clock now.
    static func wallClock() -> timespec {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return now
    }

    /// What QEMU wrote to the log from `offset` on (after VirtKit's header), for an error
    /// message: the last `limit` bytes, without its pty announcements, which say nothing of why
    /// it failed.
    static func logTail(_ path: FilePath, from offset: Int64, limit: Int = 4096) -> String {
        guard let bytes = AtomicFile.read(path), offset < bytes.count else { return "" }
        let tail = String(decoding: bytes[Int(max(offset, 0))...].suffix(limit), as: UTF8.self)
        return tail.split(separator: "\n").filter { !$0.hasPrefix("char device redirected to ") }
            .joined(separator: "\n").trimmingBlanks
    }

    /// The ptys QEMU announced in the log from `offset` on, by chardev alias (`serial0`): it
    /// prints `char device redirected to PATH (label charALIAS)` as it creates each, before
    /// its monitor greets (libvirt read them so before QEMU had query-chardev). Only paths
    /// under /dev/pts/ count.
    static func announcedPtys(_ path: FilePath, from offset: Int64, limit: Int = 65536) -> [String: String] {
        guard let fd = try? FileDescriptor.open(path, .readOnly) else { return [:] }
        defer { try? fd.close() }
        // Not zero-filled first: this runs on every start, and only what is read is used.
        let bytes = (try? [UInt8](unsafeUninitializedCapacity: limit) { buffer, count in
            count = try fd.read(fromAbsoluteOffset: max(offset, 0), into: UnsafeMutableRawBufferPointer(buffer))
        }) ?? []
        return announcedPtys(in: String(decoding: bytes, as: UTF8.self))
    }

    static func announcedPtys(in text: String) -> [String: String] {
        let prefix = "char device redirected to ", middle = " (label char"
        var ptys: [String: String] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix(prefix) && line.hasSuffix(")") {
            let rest = line.dropFirst(prefix.count).dropLast()
            guard let split = rest.range(of: middle) else { continue }
            let path = String(rest[..<split.lowerBound]), alias = String(rest[split.upperBound...])
            guard path.hasPrefix("/dev/pts/"), !path.contains(" "), !alias.isEmpty else { continue }
            ptys[alias] = path
        }
        return ptys
    }
}
