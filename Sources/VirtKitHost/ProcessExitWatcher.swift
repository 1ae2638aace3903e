import CVirtKitHost
import Dispatch
import Synchronization
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// Waits for a process to end, whether or not it is this process's child (after a daemon restart
/// QEMU is not), through a pidfd, and reaps it when it is a child.
public enum ProcessExitWatcher {
    /// Returns once `process` has exited; the exit status when it was our child, else nil.
    public static func waitForExit(_ process: ProcessIdentity) async -> Int32? {
        let pidfd = vk_pidfd_open(process.pid)
        if pidfd < 0 { return reap(process.pid) }
        // The pidfd becomes readable on exit; a dispatch source reports that without a thread
        // blocked per process. Checked once more after arming, in case it already exited.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let source = DispatchSource.makeReadSource(fileDescriptor: pidfd, queue: .global())
            let once = OnceFlag()
            source.setEventHandler {
                if once.claim() {
                    source.cancel()
                    continuation.resume()
                }
            }
            source.setCancelHandler { close(pidfd) }
            source.resume()
            if !process.isAlive, once.claim() {
                source.cancel()
                continuation.resume()
            }
        }
        return reap(process.pid)
    }

    /// waitpid without blocking: the status if `pid` is an exited child of ours.
    @discardableResult
    public static func reap(_ pid: Int32) -> Int32? {
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        return r == pid ? status : nil
    }
}

/// A flag that can be claimed once, from any thread (an atomic compare-and-swap).
final class OnceFlag: Sendable {
    private let claimed = Atomic<Bool>(false)
    func claim() -> Bool {
        claimed.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
    }
}
