import Foundation
import SystemPackage
import Testing
import VirtKitHost
import VirtKitTestSupport

/// virtkitd's short kernel time slice: taken by the thread that asks, inherited by the threads it
/// creates, and not passed on to the programs ProcessSpawner starts.
@Suite struct ThreadSliceTests {
    /// What a thread and a child reported, read on a thread of its own (the slice is per thread:
    /// a pool thread of the test process must not keep it).
    struct Observed: Sendable {
        var before: Duration?
        var granted: Duration?
        var inherited: Duration?
        var afterSpawn: Duration?
        var child: String
        var reset: Duration?
    }

    @Test("the asked-for slice holds for the thread and its new threads, not for a spawned child")
    func sliceIsInheritedButNotSpawned() async throws {
        let root = FilePath(NSTemporaryDirectory()).appending("vk-slice-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try AtomicFile.makeDirectory(root)
        defer { AtomicFile.removeTree(root) }
        let observed = try await OffPool.run { () throws -> Observed in
            let before = ThreadSlice.current
            try ThreadSlice.request(.microseconds(250))
            let granted = ThreadSlice.current
            let inherited = Self.onNewThread { ThreadSlice.current }
            let log = try FileDescriptor.open(root.appending("child"), .writeOnly, options: [.create], permissions: .ownerReadWrite)
            let pid = try ProcessSpawner.spawn(
                executable: "/bin/sh", arguments: ["sh", "-c", "grep '^se.slice' /proc/self/sched; echo done"],
                environment: ["PATH": "/usr/bin:/bin"], output: log, placements: [])
            try log.close()
            let afterSpawn = ThreadSlice.current
            var child = ""
            for _ in 0..<200 {
                child = String(decoding: AtomicFile.read(root.appending("child")) ?? [], as: UTF8.self)
                if child.contains("done") { break }
                usleep(25_000)
            }
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            try ThreadSlice.request(.zero)
            return Observed(before: before, granted: granted, inherited: inherited, afterSpawn: afterSpawn,
                            child: child, reset: ThreadSlice.current)
        }
        let before = try #require(observed.before, "the kernel reports no slice")
        #expect(observed.granted == .microseconds(250))
        #expect(observed.inherited == .microseconds(250), "a thread created afterwards inherits it")
        #expect(observed.afterSpawn == .microseconds(250), "the spawning thread gets it back")
        #expect(observed.reset == before, "asking for zero restores the default")
        #expect(ThreadSlice.requested == .microseconds(250), "the process's slice stays recorded for spawns")
        // The child's own view: the default, not the daemon's slice.
        let field = observed.child.split(separator: "\n").first { $0.hasPrefix("se.slice") }
        let value = field?.split(separator: ":").last.map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(value == "\(Int64(before / .nanoseconds(1)))", "child: \(observed.child)")
    }

    static func onNewThread<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
        let box = Box<T>()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            box.value = body()
            done.signal()
        }
        done.wait()
        guard let value = box.value else { preconditionFailure("the thread ran") }
        return value
    }

    final class Box<T>: @unchecked Sendable { var value: T? }
}
