import Logging
import NIOCore

/// One monitor client on its channel's event loop: feeds its lines to a ``MonitorSession``
/// and carries out what the session decides.
///
/// Thread safety: every member is touched only on the channel's event loop. Commands go to
/// QEMU from the loop and their answers come back on it (the QMP connection's loop, which
/// the server's channels share), or from a task with `eventLoop.execute` when the policy
/// had to wait; events arrive from ``MonitorHub`` with `eventLoop.execute` too, through a
/// `NIOLoopBound`.
///
/// Output is bounded: writes are flushed at once and counted until the socket takes them.
/// When more than the configured pending output would wait for a client that is not reading,
/// the client is disconnected, so a stalled client never holds memory or back-pressure on
/// the QMP connection or anyone else. Reading pauses while too many of the client's own
/// lines wait behind its running command.
final class MonitorClientHandler: ChannelDuplexHandler {
    typealias InboundIn = MonitorFrame
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let hub: MonitorHub
    private var session: MonitorSession
    private var context: ChannelHandlerContext?
    private var clientID: Int?
    /// Written but not yet taken by the socket.
    private var pendingOutput = 0
    private var closeWhenFlushed = false
    /// Output is shut down; the socket closes when the client closes its side.
    private var outputShut = false
    private var inputEnded = false
    private var isClosed = false
    private var idleTimer: Scheduled<Void>?
    private var drainTimer: Scheduled<Void>?
    private var readHeld = false
    /// Inside ``run(_:)``: an answer arriving now is returned from it, not applied.
    private var starting = false
    private var immediateAnswer: MonitorSession.Answer?

    /// Why this client may not connect at all (decided before it was served), nil when it may.
    private let refusal: String?

    init(hub: MonitorHub, channel: MonitorChannel, refusal: String? = nil) {
        self.hub = hub
        self.refusal = refusal
        session = MonitorSession(channel: channel, maxLineLength: hub.configuration.maxLineLength)
    }

    /// Queued lines above this stop reading until the queue drains.
    private var readLimit: Int { hub.configuration.maxLineLength }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimers()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        if let refusal {
            write(Array("error: \(refusal)\r\n".utf8))
            closeAfterFlush()
            context.fireChannelActive()
            return
        }
        switch hub.register(context.channel, channel: session.channel) {
        case .refused(let message):
            write(Array("error: \(message)\r\n".utf8))
            closeAfterFlush()
        case .accepted(let id):
            clientID = id
            apply(session.connected(banner: hub.banner))
            if session.channel == .command {
                let timeout = hub.configuration.idleTimeout
                idleTimer = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(timeout)) { [self] in
                    apply(session.idleTimedOut(after: timeout))
                }
            }
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        isClosed = true
        cancelTimers()
        if let clientID { hub.unregister(clientID) }
        clientID = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        if case .inputClosed = frame {
            inputEnded = true
            if outputShut || clientID == nil {
                closeNow()
                return
            }
        }
        guard clientID != nil, !isClosed else { return }
        switch frame {
        case .line(let line): apply(session.received(line))
        case .tooLong: apply(session.lineTooLong())
        case .inputClosed: apply(session.inputClosed())
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        hub.logger.debug("monitor client error, closing", metadata: ["error": "\(error)"])
        closeNow()
    }

    func read(context: ChannelHandlerContext) {
        if session.queuedBytes > readLimit {
            readHeld = true
        } else {
            context.read()
        }
    }

    // MARK: From outside the pipeline (on the event loop)

    /// A QMP event line, for a client in QMP mode.
    func deliverEvent(_ line: [UInt8]) {
        apply(session.event(line))
    }

    /// The running command's answer.
    func finished(_ answer: MonitorSession.Answer) {
        apply(session.finished(answer))
    }

    // MARK: Actions

    private func apply(_ actions: [MonitorSession.Action]) {
        var actions = actions
        var next = 0
        while next < actions.count {
            let action = actions[next]
            next += 1
            switch action {
            case .write(let bytes): write(bytes)
            case .run(let request):
                // An answer had at once continues this loop rather than nesting, so a long
                // queue of refused commands does not deepen the stack.
                if let answer = run(request) { actions += session.finished(answer) }
            case .subscribeEvents:
                if let clientID, let context {
                    hub.subscribeEvents(clientID, sink: NIOLoopBound(self, eventLoop: context.eventLoop))
                }
            case .cancelIdleTimer:
                idleTimer?.cancel()
                idleTimer = nil
            case .close: closeAfterFlush()
            }
        }
        if readHeld, session.queuedBytes <= readLimit, let context, !isClosed {
            readHeld = false
            context.read()
        }
    }

    /// Starts `request`; returns its answer when it came at once (the policy's own, or a
    /// failure to send), else nil and the answer comes to ``finished(_:)``.
    private func run(_ request: MonitorSession.Request) -> MonitorSession.Answer? {
        guard let context else { return nil }
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        starting = true
        defer { starting = false }
        hub.runner.run(request, on: session.channel) { answer in
            // The QMP connection shares this loop, so its replies usually arrive here
            // already; a policy that had to wait answers from a task.
            if handler.eventLoop.inEventLoop {
                handler.value.runnerFinished(answer)
            } else {
                handler.eventLoop.execute { handler.value.runnerFinished(answer) }
            }
        }
        defer { immediateAnswer = nil }
        return immediateAnswer
    }

    private func runnerFinished(_ answer: MonitorSession.Answer) {
        if starting {
            immediateAnswer = answer
        } else {
            finished(answer)
        }
    }

    private func write(_ bytes: [UInt8]) {
        guard let context, !isClosed, !bytes.isEmpty else { return }
        let count = bytes.count
        if pendingOutput > 0, pendingOutput + count > hub.configuration.maxPendingOutput {
            hub.logger.warning(
                "disconnecting a monitor client that does not read its output",
                metadata: [
                    "guest": "\(hub.configuration.guestName)", "channel": "\(session.channel)",
                    "pending": "\(pendingOutput)",
                ])
            closeNow()
            return
        }
        pendingOutput += count
        let buffer = context.channel.allocator.buffer(bytes: bytes)
        context.writeAndFlush(Self.wrapOutboundOut(buffer)).assumeIsolated().whenComplete { [self] _ in
            pendingOutput -= count
            if closeWhenFlushed, pendingOutput == 0 { finishClosing() }
        }
    }

    /// Closes once written output has gone out, or after the idle timeout when the client
    /// does not take it.
    private func closeAfterFlush() {
        guard let context, !isClosed, !closeWhenFlushed else { return }
        closeWhenFlushed = true
        drainTimer = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(hub.configuration.idleTimeout)) {
            [self] in closeNow()
        }
        if pendingOutput == 0 { finishClosing() }
    }

    /// Everything is written: close, or, while the client may still be sending, shut down
    /// output first and close when its side ends (or the drain timer fires). Closing a TCP
    /// socket with unread input sends a reset that can destroy the answer or error line
    /// still in flight to the client.
    private func finishClosing() {
        guard let context, !isClosed, !outputShut else { return }
        if inputEnded {
            closeNow()
            return
        }
        outputShut = true
        context.close(mode: .output).assumeIsolated().whenFailure { [self] _ in closeNow() }
    }

    private func closeNow() {
        guard let context, !isClosed else { return }
        isClosed = true
        cancelTimers()
        context.close(promise: nil)
    }

    private func cancelTimers() {
        idleTimer?.cancel()
        idleTimer = nil
        drainTimer?.cancel()
        drainTimer = nil
    }
}
