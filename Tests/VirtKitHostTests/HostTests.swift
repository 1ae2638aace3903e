import Foundation
import SystemPackage
import Testing
@testable import VirtKitHost

@Suite("Host: sockets at any path length, spawning with an fd map, process identity")
struct HostTests {
    /// A fresh directory under /tmp, removed by the caller.
    static func scratch() throws -> FilePath {
        let dir = FilePath("/tmp/vkh-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try AtomicFile.makeDirectory(dir)
        return dir
    }

    @Test("a 200-byte bind path works: listen, connect, talk, permissions 0600")
    func longPath() throws {
        let root = try Self.scratch()
        defer { AtomicFile.removeTree(root) }
        var dir = root
        while dir.string.utf8.count < 200 { dir.append("d123456789") }
        try AtomicFile.makeDirectory(dir)
        let path = dir.appending("echo.sock")
        #expect(path.string.utf8.count > 200)
        let listener = try UnixSocket.listen(at: path)
        defer { try? listener.close() }
        var info = stat()
        #expect(lstat(path.string, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        #expect(info.st_mode & S_IFMT == S_IFSOCK)
        let client = try UnixSocket.connect(to: path)
        defer { try? client.close() }
        let server = FileDescriptor(rawValue: accept(listener.rawValue, nil, nil))
        defer { try? server.close() }
        _ = try client.writeAll(Array("ping".utf8))
        var buffer = [UInt8](repeating: 0, count: 4)
        let n = try buffer.withUnsafeMutableBytes { try server.read(into: $0) }
        #expect(String(decoding: buffer[0..<n], as: UTF8.self) == "ping")
    }

    @Test("create makes a new private file and refuses one that exists, leaving it as it was")
    func createIsExclusive() throws {
        let root = try Self.scratch()
        defer { AtomicFile.removeTree(root) }
        let path = root.appending("master-key.aes")
        try AtomicFile.create([1, 2, 3], at: path)
        #expect(AtomicFile.read(path) == [1, 2, 3])
        var info = stat()
        #expect(stat(path.string, &info) == 0 && info.st_mode & 0o777 == 0o600)
        let error = #expect(throws: HostError.self) { try AtomicFile.create([9], at: path) }
        #expect(error?.description.contains(path.string) == true, "\(String(describing: error))")
        #expect(AtomicFile.read(path) == [1, 2, 3])
        #expect(throws: HostError.self) { try AtomicFile.create([9], at: root.appending("missing/dir/file")) }
    }

    @Test("a stale socket file is replaced, a regular file is not")
    func staleSocket() throws {
        let root = try Self.scratch()
        defer { AtomicFile.removeTree(root) }
        let path = root.appending("s.sock")
        let first = try UnixSocket.listen(at: path)
        try first.close()
        // Other tests spawn processes meanwhile: a child between its fork and its exec holds a
        // copy of the (close-on-exec) listener for a moment, and the socket still answers then
        // (seen once in CI). Dead means refusing connections; wait for that first.
        for _ in 0..<500 {
            guard let probe = try? UnixSocket.connect(to: path) else { break }
            try probe.close()
            usleep(10_000)
        }
        let second = try UnixSocket.listen(at: path)
        try second.close()
        let regular = root.appending("file")
        try AtomicFile.write("data", to: regular)
        #expect(throws: HostError.self) { try UnixSocket.listen(at: regular) }
        #expect(AtomicFile.read(regular) == Array("data".utf8))
    }

    @Test("spawned child sees its descriptors at the planned numbers, in a new session")
    func spawnWithPlacements() async throws {
        let root = try Self.scratch()
        defer { AtomicFile.removeTree(root) }
        // Two pipes whose write ends go to fds 3 and 4 in the child, crossed on purpose.
        let a = try FileDescriptor.pipe()
        let b = try FileDescriptor.pipe()
        let log = try FileDescriptor.open(root.appending("out.log"), .writeOnly, options: [.create], permissions: .ownerReadWrite)
        // A descriptor without close-on-exec, as some libraries leave them: it must not leak in.
        let stray = dup(log.rawValue)
        defer { close(stray) }
        let script = "echo three >&3; echo four >&4; ls /proc/self/fd | sort -n | tr '\\n' ' '; echo sid=$(cut -d' ' -f6 /proc/$$/stat)"
        let pid = try ProcessSpawner.spawn(
            executable: "/bin/sh", arguments: ["sh", "-c", script], environment: ["PATH": "/usr/bin:/bin"],
            output: log,
            placements: [.init(source: b.writeEnd, target: 4), .init(source: a.writeEnd, target: 3)])
        try a.writeEnd.close()
        try b.writeEnd.close()
        try log.close()
        // Foundation's Process, used by other tests in this process, may reap any child first:
        // wait for the exit when the child is still there, and judge it by what it wrote.
        if let identity = ProcessIdentity.of(pid: pid) {
            _ = await ProcessExitWatcher.waitForExit(identity)
        }
        for _ in 0..<200 where !(String(decoding: AtomicFile.read(root.appending("out.log")) ?? [], as: UTF8.self)).contains("sid=") {
            try await Task.sleep(for: .milliseconds(50))
        }
        func readAll(_ fd: FileDescriptor) throws -> String {
            var buffer = [UInt8](repeating: 0, count: 64)
            let n = try buffer.withUnsafeMutableBytes { try fd.read(into: $0) }
            return String(decoding: buffer[0..<n], as: UTF8.self)
        }
        #expect(try readAll(a.readEnd) == "three\n")
        #expect(try readAll(b.readEnd) == "four\n")
        let output = String(decoding: AtomicFile.read(root.appending("out.log")) ?? [], as: UTF8.self)
        // 0 1 2 3 4 and the descriptor ls itself opens: nothing else leaked in.
        #expect(output.hasPrefix("0 1 2 3 4 5 sid="), "fds: \(output)")
        #expect(output.contains("sid=\(pid)"), "a session of its own: \(output)")
        #expect(ProcessIdentity.of(pid: pid) == nil)
    }

    @Test("a missing executable is an error naming it")
    func missingExecutable() throws {
        let devNull = try FileDescriptor.open("/dev/null", .writeOnly)
        defer { try? devNull.close() }
        let error = #expect(throws: HostError.self) {
            try ProcessSpawner.spawn(executable: "/nonexistent/qemu", arguments: ["qemu"], environment: [:],
                                     output: devNull, placements: [])
        }
        #expect(error?.description.contains("/nonexistent/qemu") == true)
    }

    @Test("identity: a live process matches, a recycled pid does not")
    func identity() throws {
        let me = try #require(ProcessIdentity.of(pid: getpid()))
        #expect(me.isAlive)
        #expect(!ProcessIdentity(pid: me.pid, startTime: me.startTime + 1).isAlive)
        #expect(me.arguments.first?.isEmpty == false)
    }
}

@Suite("Host: busy socket paths")
struct BusySocketTests {
    @Test("a socket someone listens on is not stolen")
    func busy() throws {
        let root = try HostTests.scratch()
        defer { AtomicFile.removeTree(root) }
        let path = root.appending("busy.sock")
        let owner = try UnixSocket.listen(at: path)
        defer { try? owner.close() }
        let error = #expect(throws: HostError.self) { try UnixSocket.listen(at: path) }
        #expect(error?.errno == .addressInUse)
        // Still the owner's: a client reaches it.
        let client = try UnixSocket.connect(to: path)
        try client.close()
    }
}
