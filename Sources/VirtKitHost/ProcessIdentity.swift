import CVirtKitHost
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// A process as the kernel knows it: pid plus start time, so a recycled pid is never mistaken for
/// the process VirtKit started (libvirt's status XML keeps the same pair).
public struct ProcessIdentity: Sendable, Equatable, Codable {
    public var pid: Int32
    /// Field 22 of /proc/PID/stat: clock ticks since boot when the process started.
    public var startTime: UInt64

    public init(pid: Int32, startTime: UInt64) {
        self.pid = pid
        self.startTime = startTime
    }

    /// The identity of the running process `pid`, nil when there is none.
    public static func of(pid: Int32) -> ProcessIdentity? {
        guard let stat = readSmallFile("/proc/\(pid)/stat") else { return nil }
        // The command name (field 2) is in parentheses and may hold spaces: split after the last ')'.
        guard let close = stat.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: UInt8(ascii: " "))
        // fields[0] is field 3 (state); field 22 is fields[19].
        guard fields.count > 19, fields[0].first != UInt8(ascii: "Z"),
              let start = UInt64(String(decoding: fields[19], as: UTF8.self)) else { return nil }
        return ProcessIdentity(pid: pid, startTime: start)
    }

    /// Every running process whose executable is `executable` (its /proc/PID/exe).
    public static func running(executable: String) -> [ProcessIdentity] {
        guard let directory = opendir("/proc") else { return [] }
        defer { closedir(directory) }
        var found: [ProcessIdentity] = []
        var target = [CChar](repeating: 0, count: 4096)
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let pid = Int32(name) else { continue }
            let n = readlink("/proc/\(pid)/exe", &target, target.count - 1)
            guard n > 0, String(decoding: target[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) == executable,
                  let identity = ProcessIdentity.of(pid: pid) else { continue }
            found.append(identity)
        }
        return found
    }

    /// True while this very process runs (not a zombie, not a recycled pid).
    public var isAlive: Bool { ProcessIdentity.of(pid: pid) == self }

    /// The process's argv, from /proc/PID/cmdline.
    public var arguments: [String] {
        guard let raw = ProcessIdentity.readSmallFile("/proc/\(pid)/cmdline") else { return [] }
        return raw.split(separator: 0, omittingEmptySubsequences: false).dropLast().map {
            String(decoding: $0, as: UTF8.self)
        }
    }

    /// Sends `signal`; false when the process is gone.
    @discardableResult
    public func send(signal: Int32) -> Bool {
        guard isAlive else { return false }
        return kill(pid, signal) == 0
    }

    static func readSmallFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            bytes += buffer[0..<n]
        }
        return bytes
    }
}
