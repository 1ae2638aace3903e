import CVirtKitHost
import Synchronization
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// A connection to the descriptor holder: a small process of VirtKit's own (`virtkitd
/// --fd-holder PATH`, in a session of its own) that keeps a copy of each descriptor it is given,
/// by key, until told to drop it, and hands copies back over SCM_RIGHTS.
///
/// It keeps QEMU's side of every brokered chardev open while no daemon runs: QEMU never sees a
/// hangup, its output waits in the kernel's buffer (and the guest is throttled) until the next
/// daemon takes the descriptors back and drains them into the log. The holder only holds; it
/// never reads. It exits once its client has gone and it holds nothing.
public final class DescriptorHolder: Sendable {
    public let path: FilePath
    /// The connection (a SOCK_SEQPACKET socket); requests and their answers go one at a time.
    private let socket: Mutex<Int32>

    init(path: FilePath, socket: Int32) {
        self.path = path
        self.socket = Mutex(socket)
    }

    deinit {
        socket.withLock { if $0 >= 0 { close($0) } }
    }

    /// The holder this process uses, installed once by the daemon at start-up (like a logging
    /// backend); nil in a process without one (tests that run the runtime in-process), where
    /// chardevs work as before and a crash loses what QEMU writes meanwhile.
    public static var installed: DescriptorHolder? { current.withLock { $0 } }
    private static let current = Mutex<DescriptorHolder?>(nil)

    public static func install(_ holder: DescriptorHolder?) { current.withLock { $0 = holder } }

    /// Keys are sent in one packet with the operation; longer ones are refused here.
    public static let maximumKeyLength = 500

    /// Connects to the holder at `path`; when none answers, `launch` starts one and the
    /// connection is retried for up to two seconds.
    public static func connect(at path: FilePath, launch: () throws(HostError) -> Void) throws(HostError) -> DescriptorHolder {
        var fd = vk_seqpacket_connect(path.string)
        if fd < 0 {
            if -fd == ENAMETOOLONG { throw HostError("descriptor holder socket path too long", path.string, .fileNameTooLong) }
            try launch()
            for _ in 0..<200 where fd < 0 {
                usleep(10_000)
                fd = vk_seqpacket_connect(path.string)
            }
        }
        guard fd >= 0 else { throw HostError("cannot reach the descriptor holder", path.string, Errno(rawValue: -fd)) }
        return DescriptorHolder(path: path, socket: fd)
    }

    /// Gives the holder a copy of `descriptor` under `key` (replacing what it held there).
    public func hold(_ key: String, _ descriptor: FileDescriptor) throws(HostError) {
        try request("H", key, descriptor: descriptor.rawValue)
    }

    /// A copy of what the holder keeps under `key`, nil when it keeps nothing there.
    public func fetch(_ key: String) throws(HostError) -> FileDescriptor? {
        try exchange("F", key).flatMap { $0.0 == "Y" ? $0.1 : nil }
    }

    /// Lets the holder close what it keeps under `key`.
    public func drop(_ key: String) throws(HostError) { try request("D", key) }

    /// Lets the holder close everything under keys starting with `prefix`.
    public func drop(prefix: String) throws(HostError) { try request("P", prefix) }

    /// How many descriptors the holder keeps.
    public func count() throws(HostError) -> Int {
        guard let (answer, _) = try exchange("C", "") else { return 0 }
        return Int(answer.dropFirst(2)) ?? 0
    }

    private func request(_ operation: String, _ key: String, descriptor: Int32 = -1) throws(HostError) {
        guard key.utf8.count <= Self.maximumKeyLength else { throw HostError("descriptor key too long", key, .fileNameTooLong) }
        let message = operation + " " + key
        let rc = socket.withLock { fd in vk_send_with_fd(fd, message, message.utf8.count, descriptor) }
        if rc != 0 { throw HostError("cannot talk to the descriptor holder", path.string, Errno(rawValue: rc)) }
    }

    /// A request and its answer: the answer's text and the descriptor that came with it.
    private func exchange(_ operation: String, _ key: String) throws(HostError) -> (String, FileDescriptor?)? {
        guard key.utf8.count <= Self.maximumKeyLength else { throw HostError("descriptor key too long", key, .fileNameTooLong) }
        let message = operation + " " + key
        let result: Result<(String, Int32), Errno> = socket.withLock { fd in
            let rc = vk_send_with_fd(fd, message, message.utf8.count, -1)
            if rc != 0 { return .failure(Errno(rawValue: rc)) }
            var buffer = [CChar](repeating: 0, count: 64)
            var received: Int32 = -1
            let n = buffer.withUnsafeMutableBufferPointer { vk_recv_with_fd(fd, $0.baseAddress, 63, &received) }
            if n <= 0 { return .failure(n == 0 ? .connectionReset : Errno(rawValue: Int32(-n))) }
            return .success((String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self), received))
        }
        switch result {
        case .success(let (text, fd)): return (text, fd >= 0 ? FileDescriptor(rawValue: fd) : nil)
        case .failure(let errno): throw HostError("cannot talk to the descriptor holder", path.string, errno)
        }
    }

    /// The holder process's whole life (`virtkitd --fd-holder PATH`): listens at `path` and
    /// serves until a client has gone and nothing is held. Its exit status.
    public static func serve(at path: FilePath) -> Int32 {
        let listener = vk_seqpacket_listen(path.string)
        guard listener >= 0 else { return 1 }
        let rc = vk_fdholder_serve(listener)
        close(listener)
        unlink(path.string)
        return rc == 0 ? 0 : 1
    }
}
