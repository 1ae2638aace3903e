import Logging
import NIOCore

/// Everything one broker keeps: the peer channel, scrollback, log, clients and their queues,
/// the pen. Confined to the peer channel's event loop: every method runs there (reached
/// through `NIOLoopBound`, which checks it), so none of it needs a lock, and a client's
/// attach (scrollback snapshot plus registration) falls between two reads of the guest's
/// output, never inside one.
final class BrokerCore {
    /// One attached client.
    private final class Slot {
        let mode: ClientMode
        var queue: ClientQueue
        /// The consumer waiting for output, when its queue was empty.
        var waiter: EventLoopPromise<BrokerOutput?>?
        /// A served socket the output is written to directly (instead of a waiting consumer).
        var socket: Channel?
        /// The socket is being closed: nothing more is written to it.
        var socketClosing = false

        init(mode: ClientMode, queue: ClientQueue) {
            self.mode = mode
            self.queue = queue
        }
    }

    enum Phase: Equatable {
        case running
        case peerClosed
        case stopped
    }

    let configuration: ChardevBroker.Configuration
    let logger: Logger
    let eventLoop: EventLoop
    private var peer: Channel?
    private var ring: ScrollbackRing
    private let log: RotatingLog?
    /// The log's commit record (socket peers with a log and a record path).
    var commit: LogCommit?
    /// Reads a socket peer by peeking (see ``PeerSocketReader``); nil for a pty.
    var socketReader: PeerSocketReader?
    private var pen = WriterPen()
    private var slots: [Int: Slot] = [:]
    private var nextID = 1
    private(set) var phase = Phase.running
    private var bytesFromGuest = 0
    private var bytesToGuest = 0
    /// Sockets being served (``ChardevBroker/serve(connectedSocket:mode:label:)``), closed
    /// by ``stop()`` once their grace period is over.
    private var servedChannels: [ObjectIdentifier: Channel] = [:]
    private let peerClosedPromise: EventLoopPromise<Void>

    init(configuration: ChardevBroker.Configuration, log: RotatingLog?, logger: Logger, eventLoop: EventLoop) {
        self.configuration = configuration
        self.log = log
        self.logger = logger
        self.eventLoop = eventLoop
        ring = ScrollbackRing(capacity: configuration.scrollbackSize)
        if ring.capacity > 0 { ring.append(configuration.scrollbackSeed.suffix(ring.capacity)) }
        peerClosedPromise = eventLoop.makePromise()
    }

    private var console: String { configuration.name }

    /// Succeeds when QEMU's side closes (or the broker stops).
    var peerClosedFuture: EventLoopFuture<Void> { peerClosedPromise.futureResult }

    /// Sets the channel over QEMU's side once it is registered.
    func setPeer(_ channel: Channel) {
        peer = channel
        if phase == .stopped { channel.close(promise: nil) }
    }

    // MARK: The guest's side

    /// Output from the guest: logged, kept for scrollback, queued for every client.
    func received(_ buffer: ByteBuffer) {
        guard phase == .running, buffer.readableBytes > 0 else { return }
        bytesFromGuest += buffer.readableBytes
        // One copy, and only when something keeps the bytes: the log, the scrollback, a queue.
        let copy = log == nil ? nil : Array(buffer.readableBytesView)
        if let log, let copy { log.append(copy[...]) }
        fanOut(buffer, copy: copy)
    }

    /// Output peeked from a socket peer: logged under the commit record, then consumed from
    /// the socket (`consume`, given the record's mark), then kept and sent on. A kill between
    /// the log and the end of the record leaves it for ``recover(peek:consume:)``.
    func receivedPeeked(_ bytes: [UInt8], consume: (UnsafeMutablePointer<UInt8>?) -> Void) {
        guard phase == .running, let last = bytes.last else { return consume(nil) }
        bytesFromGuest += bytes.count
        var mark: UnsafeMutablePointer<UInt8>?
        if let log {
            if let commit, let position = log.position {
                commit.begin(count: bytes.count, position: position, last: last)
                mark = commit.mark
            }
            log.append(bytes[...])
        }
        consume(mark)
        commit?.end()
        fanOut(ByteBuffer(bytes: bytes), copy: bytes)
    }

    /// After a daemon was killed while a commit record was set: the bytes that reached the log
    /// but not yet consumed (the record's mark tells) are consumed now, under the record again
    /// (`peek` shows the socket's first bytes; `consume` takes a count and the mark and says how
    /// many it took), so they are logged once. Returns that count.
    func recover(peek: (Int) -> [UInt8], consume: (Int, UnsafeMutablePointer<UInt8>?) -> Int) -> Int {
        guard let commit, let pending = commit.pending, let path = configuration.log?.path else { return 0 }
        defer { commit.end() }
        if pending.consumed == true {
            logger.info("console log: the daemon was killed after logging and consuming output; nothing to redo",
                        metadata: ["console": "\(console)", "bytes": "\(pending.count)"])
            return 0
        }
        let logged = min(pending.count, RotatingLog.bytesWritten(since: (pending.inode, pending.size), path: path) ?? 0)
        guard logged > 0 else { return 0 }
        // A record without a mark cannot say whether the consume happened: taken as not.
        let head = peek(logged)
        guard head.count == logged, let last = head.last else { return 0 }
        commit.begin(count: logged, position: (pending.inode, pending.size), last: last)
        let taken = consume(logged, commit.mark)
        logger.info("console log: bytes logged before a crash were not logged again",
                    metadata: ["console": "\(console)", "bytes": "\(taken)"])
        return taken
    }

    /// Scrollback and every client.
    private func fanOut(_ buffer: ByteBuffer, copy: [UInt8]?) {
        var copy = copy
        func bytes() -> [UInt8] {
            if let copy { return copy }
            let made = Array(buffer.readableBytesView)
            copy = made
            return made
        }
        if ring.capacity > 0 { ring.append(bytes()[...]) }
        for slot in slots.values {
            // A socket that keeps up takes the read buffer itself: shared, not copied, and no
            // queue on the way. Only a backlog goes through the queue (in order, bounded).
            if let channel = slot.socket, !slot.socketClosing, slot.queue.isEmpty, channel.isWritable {
                channel.writeAndFlush(buffer, promise: nil)
                continue
            }
            slot.queue.push(bytes())
            deliver(slot)
        }
    }

    /// QEMU's side hung up: clients get what is queued, then ``CloseReason/peerClosed``.
    func peerDidClose(error: (any Error)?) {
        guard phase == .running else { return }
        phase = .peerClosed
        var metadata: Logger.Metadata = ["console": "\(console)", "bytes": "\(bytesFromGuest)"]
        if let error { metadata["error"] = "\(error)" }
        logger.info("console peer closed", metadata: metadata)
        socketReader?.cancel()
        peer?.close(promise: nil)
        closeClients(.peerClosed)
        peerClosedPromise.succeed()
    }

    // MARK: Clients

    /// Admits a client under the pen rules; it starts with the scrollback.
    func attach(mode: ClientMode, label: String?) -> Result<(id: Int, label: String), BrokerError> {
        guard phase != .stopped else { return .failure(.stopped(console: console)) }
        guard slots.count < configuration.maxClients else {
            return .failure(.tooManyClients(console: console, limit: configuration.maxClients))
        }
        let id = nextID
        let label = label ?? "client \(id)"
        switch pen.admit(id: id, label: label, mode: phase == .running ? mode : .readOnly) {
        case .refusedInUse:
            return .failure(.consoleInUse(console: console))
        case .admitted(let demoted):
            if let demoted, let slot = slots[demoted] {
                logger.info("console pen taken", metadata: ["console": "\(console)", "by": "\(label)"])
                slot.queue.push(notice: .penLost(to: label))
                deliver(slot)
            }
        }
        nextID += 1
        let slot = Slot(mode: mode, queue: ClientQueue(replay: ring.snapshot(), limit: configuration.clientQueueLimit))
        if phase == .peerClosed { slot.queue.close(.peerClosed) }
        slots[id] = slot
        logger.debug("console client attached", metadata: ["console": "\(console)", "client": "\(label)", "mode": "\(mode)"])
        return .success((id, label))
    }

    /// The next output for client `id`: at once when some is queued, else when it comes;
    /// nil once the client is finished, detached, or a second consumer asks while one waits.
    func next(_ id: Int) -> EventLoopFuture<BrokerOutput?> {
        guard let slot = slots[id] else { return eventLoop.makeSucceededFuture(nil) }
        if let output = slot.queue.pop() { return eventLoop.makeSucceededFuture(output) }
        guard slot.waiter == nil, !slot.queue.isFinished else { return eventLoop.makeSucceededFuture(nil) }
        let promise = eventLoop.makePromise(of: BrokerOutput?.self)
        slot.waiter = promise
        return promise.futureResult
    }

    /// Ends client `id`'s pending wait with nil (its consuming task was cancelled).
    func cancelWait(_ id: Int) {
        guard let slot = slots[id], let waiter = slot.waiter else { return }
        slot.waiter = nil
        waiter.succeed(nil)
    }

    /// Sends client `id`'s bytes to the guest if the pen rules let it write.
    func write(_ id: Int, _ bytes: [UInt8]) -> EventLoopFuture<Void> {
        guard let slot = slots[id] else { return eventLoop.makeFailedFuture(BrokerError.detached(console: console)) }
        switch phase {
        case .running: break
        case .peerClosed: return eventLoop.makeFailedFuture(BrokerError.peerClosed(console: console))
        case .stopped: return eventLoop.makeFailedFuture(BrokerError.stopped(console: console))
        }
        switch pen.right(of: id, mode: slot.mode) {
        case .allowed: break
        case .readOnly: return eventLoop.makeFailedFuture(BrokerError.readOnly(console: console))
        case .penTaken(let by): return eventLoop.makeFailedFuture(BrokerError.penTaken(console: console, by: by))
        }
        guard let peer, !bytes.isEmpty else { return eventLoop.makeSucceededVoidFuture() }
        bytesToGuest += bytes.count
        let console = console
        return peer.writeAndFlush(peer.allocator.buffer(bytes: bytes)).flatMapErrorThrowing { _ in
            throw BrokerError.peerClosed(console: console)
        }
    }

    /// Forgets client `id`: frees the pen if it held it, ends its pending wait.
    /// Gives up the pen, if client `id` holds it, while the client stays attached (its input
    /// ended: it will not type again).
    func releasePen(_ id: Int) {
        pen.release(id)
    }

    func detach(_ id: Int) {
        guard let slot = slots.removeValue(forKey: id) else { return }
        pen.release(id)
        if let waiter = slot.waiter {
            slot.waiter = nil
            waiter.succeed(nil)
        }
        logger.debug("console client detached", metadata: ["console": "\(console)", "client": "\(id)"])
    }

    /// Attaches a served socket's client (``ServedSocketHandler``): its output is written to
    /// `channel` by ``pump(_:)``.
    func attach(socket channel: Channel, mode: ClientMode, label: String?) -> Result<Int, BrokerError> {
        switch attach(mode: mode, label: label) {
        case .success(let ticket):
            slots[ticket.id]?.socket = channel
            return .success(ticket.id)
        case .failure(let error):
            return .failure(error)
        }
    }

    /// Writes client `id`'s waiting output to its socket while the socket takes it.
    func pump(_ id: Int) {
        if let slot = slots[id] { pump(slot) }
    }

    private func pump(_ slot: Slot) {
        guard let channel = slot.socket, !slot.socketClosing else { return }
        let inBand = configuration.inBandNotices
        var wrote = false
        while channel.isWritable, let output = slot.queue.pop() {
            var close = false
            let bytes: [UInt8]
            switch (output, inBand) {
            case (.bytes(let raw), _): bytes = raw
            case (.closed, true): bytes = output.terminalBytes; close = true
            case (_, true): bytes = output.terminalBytes
            case (.penLost, false): continue
            // A protocol stream with a hole in it is broken: the client is closed.
            case (.gap, false), (.closed, false): bytes = []; close = true
            }
            if close {
                // Closed once all that was written has gone out (a close drops pending writes).
                slot.socketClosing = true
                channel.writeAndFlush(ByteBuffer(bytes: bytes)).whenComplete { _ in channel.close(promise: nil) }
                return
            }
            if !bytes.isEmpty {
                channel.write(ByteBuffer(bytes: bytes), promise: nil)
                wrote = true
            }
        }
        if wrote { channel.flush() }
    }

    /// Hands client `slot` its next output if it is waiting for some.
    private func deliver(_ slot: Slot) {
        if slot.socket != nil { return pump(slot) }
        guard let waiter = slot.waiter, let output = slot.queue.pop() else { return }
        slot.waiter = nil
        waiter.succeed(output)
    }

    private func closeClients(_ reason: CloseReason) {
        pen.reset()
        for slot in slots.values {
            slot.queue.close(reason)
            deliver(slot)
        }
    }

    // MARK: Served sockets

    /// Records a served socket's channel; false when the broker is stopped (refuse it).
    func register(served channel: Channel) -> Bool {
        guard phase != .stopped else { return false }
        servedChannels[ObjectIdentifier(channel)] = channel
        return true
    }

    func unregister(served channel: Channel) {
        servedChannels[ObjectIdentifier(channel)] = nil
    }

    // MARK: Status and stop

    /// Counters and state for status reports.
    var statistics: ChardevBroker.Statistics {
        ChardevBroker.Statistics(
            bytesFromGuest: bytesFromGuest, bytesToGuest: bytesToGuest, clients: slots.count,
            scrollbackBytes: ring.count, peerOpen: phase == .running, logBytesLost: log?.bytesLost ?? 0,
            logError: log?.currentFailure.map { "\($0)" })
    }

    /// Closes every client (after its queued output), the peer and the log; served sockets
    /// get ``ChardevBroker/Configuration/closeGracePeriod`` to finish. Succeeds when all of
    /// them are closed.
    func stop() -> EventLoopFuture<Void> {
        guard phase != .stopped else { return eventLoop.makeSucceededVoidFuture() }
        if phase == .running {
            closeClients(.stopped)
            peerClosedPromise.succeed()
        }
        phase = .stopped
        log?.close()
        socketReader?.cancel()
        peer?.close(promise: nil)
        var closing = [peer?.closeFuture].compactMap { $0 }
        let served = Array(servedChannels.values)
        servedChannels = [:]
        if !served.isEmpty {
            closing += served.map(\.closeFuture)
            let grace = TimeAmount(configuration.closeGracePeriod)
            let forceClose = eventLoop.scheduleTask(in: grace) {
                for channel in served { channel.close(promise: nil) }
            }
            let all = EventLoopFuture.andAllComplete(closing, on: eventLoop)
            all.whenComplete { _ in forceClose.cancel() }
            return all
        }
        return EventLoopFuture.andAllComplete(closing, on: eventLoop)
    }
}

extension TimeAmount {
    /// `duration` in nanoseconds (saturating).
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let (nanos, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        self = .nanoseconds(overflow ? .max : nanos + attoseconds / 1_000_000_000)
    }
}
