import NIOCore

/// One client attached to a ``ChardevBroker``: its output stream and its input.
///
/// ``output`` is pulled: the broker hands out the next element only when the consumer asks,
/// so a consumer that stops reading only fills its own bounded queue (and later reads a
/// ``BrokerOutput/gap(skipped:)``). Iterate it from one task; cancelling that task detaches
/// the client. The client stays attached while it or its ``output`` stream is referenced;
/// call ``detach()`` to leave at a known point.
public final class BrokerClient: Sendable {
    /// The client's number within its broker.
    public let id: Int
    /// How it attached.
    public let mode: ClientMode
    /// The name another client is told when this one takes the pen.
    public let label: String
    /// Guest output (scrollback first), gaps and notices, ending with
    /// ``BrokerOutput/closed(_:)`` when the console closes, or with nothing after ``detach()``.
    public let output: AsyncStream<BrokerOutput>

    private let lease: ClientLease

    init(link: BrokerLink, id: Int, mode: ClientMode, label: String) {
        self.id = id
        self.mode = mode
        self.label = label
        let lease = ClientLease(link: link, id: id)
        self.lease = lease
        output = AsyncStream(unfolding: { await lease.next() }, onCancel: { lease.detachSoon() })
    }

    /// Sends `bytes` to the guest; returns once they are handed to QEMU's side, so a guest
    /// that reads slowly slows its writers (and only them).
    /// - Throws: ``BrokerError/readOnly(console:)``, ``BrokerError/penTaken(console:by:)``,
    ///   ``BrokerError/detached(console:)``, ``BrokerError/peerClosed(console:)``,
    ///   ``BrokerError/stopped(console:)``.
    public func write(_ bytes: [UInt8]) async throws(BrokerError) {
        try await lease.write(bytes)
    }

    /// Frees the pen if this client holds it, staying attached (it will not type again).
    public func releasePen() async {
        await lease.releasePen()
    }

    /// Leaves the console: frees the pen if this client held it and ends ``output``.
    /// Calling it again does nothing.
    public func detach() async {
        await lease.detach()
    }
}

/// Keeps a client attached while its ``BrokerClient`` or its output stream lives, and
/// carries their calls to the broker's loop.
final class ClientLease: Sendable {
    private let link: BrokerLink
    private let id: Int

    init(link: BrokerLink, id: Int) {
        self.link = link
        self.id = id
    }

    deinit {
        detachSoon()
    }

    func next() async -> BrokerOutput? {
        let (link, id) = (link, id)
        let future = link.eventLoop.flatSubmit { link.core.value.next(id) }
        return await withTaskCancellationHandler {
            (try? await future.get()) ?? nil
        } onCancel: {
            // Runs after the submit above (the loop's queue is FIFO), so the wait it ends
            // is already registered.
            link.eventLoop.execute { link.core.value.cancelWait(id) }
        }
    }

    func write(_ bytes: [UInt8]) async throws(BrokerError) {
        let (link, id) = (link, id)
        do {
            try await link.eventLoop.flatSubmit { link.core.value.write(id, bytes) }.get()
        } catch {
            throw error as? BrokerError ?? .stopped(console: link.console)
        }
    }

    func releasePen() async {
        let (link, id) = (link, id)
        try? await link.eventLoop.submit { link.core.value.releasePen(id) }.get()
    }

    func detach() async {
        let (link, id) = (link, id)
        try? await link.eventLoop.submit { link.core.value.detach(id) }.get()
    }

    func detachSoon() {
        let (link, id) = (link, id)
        link.eventLoop.execute { link.core.value.detach(id) }
    }
}
