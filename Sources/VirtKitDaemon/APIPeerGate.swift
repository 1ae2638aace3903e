import Logging
import NIOCore
import Synchronization
import VirtKitHost
#if canImport(Glibc)
import Glibc
#endif

/// Who may use virtkitd's API socket and how many connections each user may hold. The socket
/// file's mode (0600, or 0660 with `--socket-group`) already keeps others out; the kernel's
/// word on the connecting process (SO_PEERCRED) makes sure of it, and the per-user limit keeps
/// one user's idle connections from making the daemon unreachable for the others (root has
/// none).
final class APIPeerGate: Sendable {
    let access: PeerAccess
    let limitPerUser: Int
    private let open = Mutex<[uid_t: Int]>([:])

    init(access: PeerAccess, limitPerUser: Int = 256) {
        self.access = access
        self.limitPerUser = limitPerUser
    }

    /// Admits the connection on `channel`: nil when it may go on (its place is given back when
    /// it closes), else why not.
    func admit(_ channel: any Channel) -> EventLoopFuture<String?> {
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeSucceededFuture("cannot tell which user is connecting")
        }
        let credentials: EventLoopFuture<PeerCredentials> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
        return credentials.map { [self] credentials -> String? in
            let uid = credentials.uid
            guard access.permits(uid: uid) else { return "uid \(uid) may not use this virtkitd" }
            guard uid != 0 else { return nil }
            let admitted = open.withLock { open -> Bool in
                guard open[uid, default: 0] < limitPerUser else { return false }
                open[uid, default: 0] += 1
                return true
            }
            guard admitted else { return "uid \(uid) has \(limitPerUser) connections open already" }
            channel.closeFuture.whenComplete { [self] _ in release(uid) }
            return nil
        }.recover { error in "cannot tell which user is connecting: \(error)" }
    }

    /// Connections open now, by user (for tests).
    var openConnections: [uid_t: Int] { open.withLock { $0 } }

    private func release(_ uid: uid_t) {
        open.withLock { open in
            open[uid, default: 1] -= 1
            if open[uid] == 0 { open[uid] = nil }
        }
    }
}

/// Closes an API connection whose client owes the next bytes and has not sent them for a
/// while: one that connects and sends nothing, or an idle keep-alive connection after an answer.
/// A request the daemon is still working on (an agent command, `shutdown --wait`) is not the
/// client's turn, and a stream, once upgraded, may be quiet as long as it likes.
final class IdleConnectionCloser: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let timeout: TimeAmount
    private let isStream: () -> Bool
    /// Whether the client owes the next bytes, and since when (the last write, or the start).
    private var waiting = false
    private var since = NIODeadline.now()
    /// One timer at a time: a write only moves `since`, so a long answer written in many pieces
    /// schedules nothing per piece.
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount, isStream: @escaping () -> Bool) {
        self.timeout = timeout
        self.isStream = isStream
    }

    func channelActive(context: ChannelHandlerContext) {
        startWaiting(context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        waiting = false
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        startWaiting(context)
        context.write(data, promise: promise)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    private func startWaiting(_ context: ChannelHandlerContext) {
        waiting = true
        since = .now()
        if timer == nil { schedule(context, in: timeout) }
    }

    private func schedule(_ context: ChannelHandlerContext, in delay: TimeAmount) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: delay) {
            let (closer, context) = loopBound.value
            closer.timerFired(context)
        }
    }

    private func timerFired(_ context: ChannelHandlerContext) {
        timer = nil
        guard waiting, !isStream() else { return }
        let due = since + timeout
        if NIODeadline.now() >= due {
            context.close(promise: nil)
        } else {
            schedule(context, in: due - .now())
        }
    }
}

/// Linux's `struct ucred` (pid, uid, gid: three 32-bit fields), which Glibc's Swift overlay does
/// not show; SO_PEERCRED fills it.
struct PeerCredentials: Sendable {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}
