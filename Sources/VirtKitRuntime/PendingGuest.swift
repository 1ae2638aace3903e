/// The ``RunningGuest`` a start is making, for what runs before it exists (the monitor channels,
/// served while QEMU initialises): ``guest()`` waits until the start made it, or gave up (nil).
actor PendingGuest {
    private var made: RunningGuest?
    private var settled = false
    private var waiters: [CheckedContinuation<RunningGuest?, Never>] = []

    func guest() async -> RunningGuest? {
        if settled { return made }
        return await withCheckedContinuation { waiters.append($0) }
    }

    /// The start made `guest` (nil: it failed, and stopped QEMU itself).
    func settle(_ guest: RunningGuest?) {
        guard !settled else { return }
        made = guest
        settled = true
        for waiter in waiters { waiter.resume(returning: guest) }
        waiters = []
    }
}
