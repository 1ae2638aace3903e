#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import NIOCore
import Synchronization
import VirtKitQMP

/// What one ``MonitorServer``'s client handlers share: the configuration, the command
/// runner, the register of connected clients and the QMP-mode clients that get events.
///
/// Thread safety: the register sits behind one `Mutex`, taken briefly from any event loop
/// (clients coming and going) and from the server's event task and `stop()`. Handlers are
/// only ever called on their own event loop: events are handed over with
/// `eventLoop.execute` after the lock is released, so the QMP connection's event stream
/// never waits for a client.
final class MonitorHub: Sendable {
    /// A connecting client's admission.
    enum Registration: Equatable {
        case accepted(Int)
        /// Not admitted; the message says why (too many clients, server stopping).
        case refused(String)
    }

    private struct Client {
        var channel: Channel
        var kind: MonitorChannel
        var eventSink: NIOLoopBound<MonitorClientHandler>?
    }

    private struct Register {
        var clients: [Int: Client] = [:]
        var nextID = 0
        var stopped = false
    }

    let configuration: MonitorServer.Configuration
    let runner: MonitorCommandRunner
    let logger: Logger
    /// The HMP banner with the first prompt.
    let banner: String
    private let register = Mutex(Register())

    init(configuration: MonitorServer.Configuration, qmp: QMP.Client, policy: MonitorPolicy, logger: Logger) {
        self.configuration = configuration
        runner = MonitorCommandRunner(qmp: qmp, policy: policy, timeout: configuration.commandTimeout)
        self.logger = logger
        banner = MonitorSession.banner(version: qmp.greeting.version)
    }

    /// Admits a client on `kind` unless that channel is full or the server is stopping.
    func register(_ channel: Channel, channel kind: MonitorChannel) -> Registration {
        let limit = configuration.maxClientsPerChannel
        return register.withLock { register in
            if register.stopped { return .refused("the monitor is shutting down") }
            let count = register.clients.values.count { $0.kind == kind }
            if count >= limit { return .refused("too many clients on the \(kind) channel (limit \(limit))") }
            let id = register.nextID
            register.nextID += 1
            register.clients[id] = Client(channel: channel, kind: kind)
            return .accepted(id)
        }
    }

    /// Forgets a client that closed.
    func unregister(_ id: Int) {
        register.withLock { _ = $0.clients.removeValue(forKey: id) }
    }

    /// Starts handing QMP events to client `id`.
    func subscribeEvents(_ id: Int, sink: NIOLoopBound<MonitorClientHandler>) {
        register.withLock { $0.clients[id]?.eventSink = sink }
    }

    /// Hands `event` to every QMP-mode client, on each one's event loop.
    func broadcast(_ event: QMP.Event) {
        let sinks = register.withLock { $0.clients.values.compactMap(\.eventSink) }
        guard !sinks.isEmpty else { return }
        let line = Self.eventLine(event)
        for sink in sinks {
            sink.eventLoop.execute { sink.value.deliverEvent(line) }
        }
    }

    /// Connected clients per channel.
    var clientCounts: [MonitorChannel: Int] {
        register.withLock { register in
            Dictionary(grouping: register.clients.values, by: \.kind).mapValues(\.count)
        }
    }

    /// Refuses new clients from now on and returns the connected ones' channels to close.
    func shutDown() -> [Channel] {
        register.withLock { register in
            register.stopped = true
            let channels = register.clients.values.map(\.channel)
            register.clients = [:]
            return channels
        }
    }

    /// `event` as QEMU writes it: `{"event": NAME, "data": {...}, "timestamp": {"seconds":
    /// s, "microseconds": us}}` and "\r\n".
    static func eventLine(_ event: QMP.Event) -> [UInt8] {
        let time = event.timestamp.timeIntervalSince1970
        var seconds = time.rounded(.down)
        var microseconds = ((time - seconds) * 1_000_000).rounded()
        if microseconds >= 1_000_000 {
            seconds += 1
            microseconds -= 1_000_000
        }
        let message: QMP.Value = [
            "event": .string(event.name),
            "data": event.data,
            "timestamp": ["seconds": .int(Int64(seconds)), "microseconds": .int(Int64(microseconds))],
        ]
        return message.jsonBytes + Array("\r\n".utf8)
    }
}
