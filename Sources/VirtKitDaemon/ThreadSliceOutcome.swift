import SystemPackage

/// What became of virtkitd's `--thread-slice-us` request, for its start-up log.
public enum ThreadSliceOutcome: Sendable, Equatable {
    /// No slice was asked for (`--thread-slice-us 0`): the kernel's default.
    case kernelDefault
    /// The kernel took it.
    case granted(Duration)
    /// The kernel refused it (real-time policy, or a kernel without sched_setattr).
    case refused(Duration, Errno)

    /// One line for the log.
    public var description: String {
        switch self {
        case .kernelDefault: return "kernel default"
        case .granted(let slice): return "\(Int64(slice / .microseconds(1))) us"
        case .refused(let slice, let errno): return "\(Int64(slice / .microseconds(1))) us refused (\(errno)): kernel default"
        }
    }
}
