import CVirtKitHost
import SystemPackage

/// The kernel time slice of the calling thread (fair class; Linux 6.12+ EEVDF reads
/// `sched_setattr`'s `sched_runtime` as it).
///
/// virtkitd's threads mostly sleep and then run for a few microseconds. With the kernel's default
/// slice (0.7 ms scaled by the CPU count), such a thread woken onto a CPU where a guest's vCPU
/// thread runs waits until that thread's slice ends, at the next tick, even with the other CPU idle
/// (the start's figures in docs/performance.md). A short slice gives the woken thread an earlier
/// deadline, so it preempts the vCPU thread at once. Processes that ``ProcessSpawner`` starts get
/// the default slice back: a guest runs as it would without virtkitd.
public enum ThreadSlice {
    /// The shortest slice the kernel accepts.
    public static let shortest: Duration = .microseconds(100)

    /// Asks for `slice` for the calling thread and the threads it creates from then on; `.zero`
    /// gives the calling thread the kernel's default again (a thread that serves no one, such as
    /// a benchmark's reader standing in for a client). Nice value and policy are kept.
    /// - Throws: the kernel's refusal, `EINVAL` for a real-time thread.
    public static func request(_ slice: Duration) throws(Errno) {
        let (seconds, attoseconds) = slice.components
        let nanoseconds = seconds < 0 ? 0 : UInt64(clamping: seconds) &* 1_000_000_000 &+ UInt64(clamping: attoseconds / 1_000_000_000)
        let rc = vk_sched_set_thread_slice(nanoseconds)
        if rc != 0 { throw Errno(rawValue: rc) }
    }

    /// The calling thread's slice (the kernel's default when none was asked for); nil where the
    /// kernel does not say.
    public static var current: Duration? {
        let nanoseconds = vk_sched_thread_slice()
        return nanoseconds == 0 ? nil : .nanoseconds(Int64(clamping: nanoseconds))
    }

    /// The last non-zero slice this process asked for (which spawned programs do not get), nil
    /// for none.
    public static var requested: Duration? {
        let nanoseconds = vk_sched_requested_slice()
        return nanoseconds == 0 ? nil : .nanoseconds(Int64(clamping: nanoseconds))
    }
}
