import Foundation
import Logging
import SystemPackage
import VirtKitModel
import VirtKitBroker
import VirtKitHost
#if canImport(Glibc)
import Glibc
#endif

/// The console brokers of one running guest: one ``ChardevBroker`` per ``BrokeredChardev``,
/// with its listeners (the domain's own socket path, and the per-mode client sockets under
/// `console/`).
///
/// Started before the guest's CPUs run (so logs and scrollback begin with the first byte of
/// boot), again on a daemon restart, and stopped when QEMU exits.
final class GuestBrokers: Sendable {
    struct Entry: Sendable {
        let record: BrokeredChardev
        let broker: ChardevBroker
        let listeners: [BrokerListener]
    }

    let entries: [Entry]
    /// The guest's run directory, where the client sockets are.
    let guestDirectory: String

    private init(entries: [Entry], guestDirectory: String) {
        self.entries = entries
        self.guestDirectory = guestDirectory
    }

    /// These brokers and a hot-plugged one (its name links made).
    func adding(_ entry: Entry) -> GuestBrokers {
        let all = entries + [entry]
        Self.linkNames(all.map(\.record), guestDirectory: guestDirectory)
        return GuestBrokers(entries: all, guestDirectory: guestDirectory)
    }

    /// These brokers and `entries` (started apart: unix ones while QEMU starts up, pty ones once
    /// QEMU named its ptys); their name links are the caller's (``linkNames(_:guestDirectory:)``).
    func merging(_ entries: [Entry]) -> GuestBrokers {
        GuestBrokers(entries: self.entries + entries, guestDirectory: guestDirectory)
    }

    /// These brokers without `alias` (hot-unplugged), whose broker the caller stops.
    func removing(_ alias: String) -> GuestBrokers {
        GuestBrokers(entries: entries.filter { $0.record.alias != alias }, guestDirectory: guestDirectory)
    }

    /// Stops one broker: its listeners, the broker, its socket files and name links.
    static func stop(_ entry: Entry, guestDirectory: String) async {
        for listener in entry.listeners { await listener.stop() }
        await entry.broker.stop()
        try? DescriptorHolder.installed?.drop(guestDirectory + "/" + entry.record.alias)
        if let path = entry.record.path { UnixSocket.remove(at: FilePath(path)) }
        for name in entry.record.names + ["default"] {
            for mode in ConsoleMode.allCases {
                let socket = BrokeredChardev.consoleSocket(guestDirectory: guestDirectory, alias: name, mode: mode)
                if name == entry.record.alias { UnixSocket.remove(at: FilePath(socket)) } else {
                    // Only a link that points at this chardev.
                    if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: socket),
                       target == entry.record.alias + mode.socketSuffix { unlink(socket) }
                }
            }
        }
    }

    /// The broker a client names `name` (an alias, `console0`, a channel's target name), or
    /// the default console for nil.
    func entry(named name: String?) -> Entry? {
        guard let name else {
            guard let record = BrokeredChardev.defaultConsole(entries.map(\.record)) else { return nil }
            return entries.first { $0.record.alias == record.alias }
        }
        return entries.first { $0.record.names.contains(name) }
    }

    /// Starts a broker for each record. `strict`: the first failure stops what was started and
    /// throws (a fresh start); otherwise failures are logged and the rest carry on (a re-attach,
    /// where the guest must not be lost over one console).
    /// `linking`: make the name links of these records (a start makes them once, for all).
    static func start(records: [BrokeredChardev], guestName: String, guestDirectory: String,
                      socketGroup: gid_t?, logger: Logger, strict: Bool,
                      listening: [String: FileDescriptor] = [:], linking: Bool = true) async throws(HostError) -> GuestBrokers {
        var entries: [Entry] = []
        var listening = listening
        // Listeners no broker took (a failed start) are closed, never leaked.
        defer { for descriptor in listening.values { try? descriptor.close() } }
        if !records.isEmpty {
            let directory = FilePath(BrokeredChardev.consoleDirectory(guestDirectory: guestDirectory))
            try AtomicFile.makeDirectory(directory)
            if let socketGroup { try UnixSocket.shareDirectory(directory, withGroup: socketGroup) }
        }
        for record in records {
            do throws(HostError) {
                entries.append(try await startOne(record, guestName: guestName, guestDirectory: guestDirectory,
                                                  socketGroup: socketGroup, logger: logger,
                                                  listening: listening.removeValue(forKey: record.alias), reattach: !strict))
            } catch {
                guard strict else {
                    logger.error("console \(record.alias) not served: \(error)", metadata: ["domain": "\(guestName)"])
                    continue
                }
                await GuestBrokers(entries: entries, guestDirectory: guestDirectory).stop()
                throw error
            }
        }
        if linking { linkNames(entries.map(\.record), guestDirectory: guestDirectory) }
        return GuestBrokers(entries: entries, guestDirectory: guestDirectory)
    }

    /// `console/NAME[.MODE]` -> `ALIAS[.MODE]` for every other name of a chardev (`console0`, a
    /// channel's target name) and `default` for the default console, so a client that knows
    /// only the name connects without asking the API.
    static func linkNames(_ records: [BrokeredChardev], guestDirectory: String) {
        let fallback = BrokeredChardev.defaultConsole(records)?.alias
        for record in records {
            var names = record.names.filter { $0 != record.alias && !$0.contains("/") && !$0.hasPrefix(".") }
            if record.alias == fallback { names.append("default") }
            for name in names {
                for mode in ConsoleMode.allCases {
                    let link = BrokeredChardev.consoleSocket(guestDirectory: guestDirectory, alias: name, mode: mode)
                    unlink(link)
                    _ = symlink(record.alias + mode.socketSuffix, link)
                }
            }
        }
    }

    static func startOne(_ record: BrokeredChardev, guestName: String, guestDirectory: String,
                         socketGroup: gid_t?, logger: Logger, listening: FileDescriptor?, reattach: Bool = false) async throws(HostError) -> Entry {
        var listening = listening
        defer { try? listening?.close() }
        let broker = try await startCore(record, guestName: guestName, guestDirectory: guestDirectory, logger: logger, reattach: reattach)
        let taken = listening
        listening = nil
        return try await serve(record, broker: broker, guestDirectory: guestDirectory, socketGroup: socketGroup, listening: taken)
    }

    /// The broker of `record` without its listeners: QEMU's side opened (the pty, or QEMU's
    /// private socket), the log and the scrollback running. What must be up before the CPUs run.
    static func startCore(_ record: BrokeredChardev, guestName: String, guestDirectory: String, logger: Logger,
                          reattach: Bool) async throws(HostError) -> ChardevBroker {
        let broker = try await prepareCore(record, guestName: guestName, logger: logger, guestDirectory: guestDirectory,
                                           seedFromLog: reattach)
        do {
            try await attachPeer(record, to: broker, guestDirectory: guestDirectory, reattach: reattach, logger: logger)
        } catch {
            await broker.stop()
            throw error
        }
        return broker
    }

    /// The broker of `record` with its log open but no QEMU side yet (``attachPeer(_:to:)``).
    static func prepareCore(_ record: BrokeredChardev, guestName: String, logger: Logger,
                            guestDirectory: String? = nil, seedFromLog: Bool = false) async throws(HostError) -> ChardevBroker {
        var configuration = ChardevBroker.Configuration(name: "\(guestName) \(record.alias)", scrollbackSize: record.scrollback)
        // A socket's log is exactly-once across daemon kills with a commit record beside its
        // client sockets (it goes with the run directory).
        if record.peerSocket != nil, let guestDirectory {
            configuration.logCommitPath = FilePath(BrokeredChardev.consoleDirectory(guestDirectory: guestDirectory) + "/." + record.alias + ".commit")
        }
        configuration.inBandNotices = record.role != "channel" && record.role != "guestfwd"
        // A channel carries data at the guest's full rate: a client falling behind for a few
        // milliseconds must not lose its stream (consoles keep the default 256 KiB).
        if !configuration.inBandNotices { configuration.clientQueueLimit = 4 << 20 }
        if seedFromLog, let log = record.log, record.scrollback > 0 {
            configuration.scrollbackSeed = logTail(FilePath(log), limit: record.scrollback)
        }
        if let log = record.log {
            let path = FilePath(log)
            if let parent = path.removingLastComponent() as FilePath? { try AtomicFile.makeDirectory(parent) }
            configuration.log = .init(path: path, maxSize: record.logMaxSize ?? 2 << 20, maxBackups: record.logMaxBackups ?? 3)
        }
        do {
            return try await ChardevBroker.prepare(configuration: configuration, logger: logger)
        } catch {
            throw HostError("cannot serve chardev", record.alias, error.errno ?? .ioError)
        }
    }

    /// Opens QEMU's side of `record` (its pty, or QEMU's private socket) for `broker`, and gives
    /// the installed ``DescriptorHolder`` a copy, so that QEMU's side stays open if this daemon
    /// dies. A re-attach takes the holder's copy first: what QEMU wrote while no daemon ran is
    /// waiting in it.
    static func attachPeer(_ record: BrokeredChardev, to broker: ChardevBroker, guestDirectory: String,
                           reattach: Bool, logger: Logger) async throws(HostError) {
        let holder = DescriptorHolder.installed
        let key = guestDirectory + "/" + record.alias
        if reattach, let held = try? holder?.fetch(key) {
            do {
                try await broker.connect(peer: held)
                return
            } catch {
                logger.error("the held descriptor of \(record.alias) did not serve: \(error); opening it anew")
            }
        }
        let peer = try openPeer(record)
        do {
            try holder?.hold(key, peer)
        } catch {
            logger.error("QEMU's side of \(record.alias) is not held: \(error); a daemon crash would lose its output meanwhile")
        }
        do {
            try await broker.connect(peer: peer)
        } catch {
            throw HostError("cannot serve chardev", record.alias, error.errno ?? .ioError)
        }
    }

    /// QEMU's side of `record`: its pty opened, or its private socket connected to.
    static func openPeer(_ record: BrokeredChardev) throws(HostError) -> FileDescriptor {
        let peer: FileDescriptor
        if let pty = record.pty {
            let fd = open(pty, O_RDWR | O_NOCTTY | O_CLOEXEC)
            guard fd >= 0 else { throw HostError("cannot open pty", pty, Errno(rawValue: errno)) }
            peer = FileDescriptor(rawValue: fd)
        } else if let socket = record.peerSocket {
            peer = try UnixSocket.connect(to: FilePath(socket))
        } else {
            throw HostError("nothing to connect to for chardev", record.alias, .invalidArgument)
        }
        return peer
    }

    /// The last `limit` bytes of the log at `path` (its first backup before it when the file is
    /// shorter), from the first whole line on.
    static func logTail(_ path: FilePath, limit: Int) -> [UInt8] {
        var tail = (AtomicFile.read(path) ?? []).suffix(limit)
        if tail.count < limit, let older = AtomicFile.read(FilePath(path.string + ".1")) {
            tail = older.suffix(limit - tail.count) + tail
        }
        guard tail.count == limit, let newline = tail.firstIndex(of: UInt8(ascii: "\n")) else { return Array(tail) }
        return Array(tail[(newline + 1)...])
    }

    /// Opens `broker`'s client sockets: the domain's own path (`listening`, when bound already)
    /// and `console/ALIAS[.MODE]`. On failure the broker is stopped and nothing is left.
    static func serve(_ record: BrokeredChardev, broker: ChardevBroker, guestDirectory: String, socketGroup: gid_t?,
                      listening: FileDescriptor?) async throws(HostError) -> Entry {
        var listening = listening
        defer { try? listening?.close() }
        var listeners: [BrokerListener] = []
        var sockets: [(path: String, mode: ClientMode)] = []
        if let path = record.path { sockets.append((path, .readWrite(force: false))) }
        for mode in ConsoleMode.allCases {
            sockets.append((BrokeredChardev.consoleSocket(guestDirectory: guestDirectory, alias: record.alias, mode: mode),
                            mode.clientMode))
        }
        do throws(HostError) {
            for (path, mode) in sockets {
                let fd: FileDescriptor
                if path == record.path, let bound = listening {
                    fd = bound
                    listening = nil
                } else {
                    fd = try UnixSocket.listen(at: FilePath(path), mode: [.ownerReadWrite])
                    if let socketGroup { try UnixSocket.share(FilePath(path), withGroup: socketGroup) }
                }
                do {
                    listeners.append(try await BrokerListener.start(socket: fd, broker: broker, mode: mode))
                } catch {
                    throw HostError("cannot listen on", path, error.errno ?? .ioError)
                }
            }
        } catch {
            for listener in listeners { await listener.stop() }
            await broker.stop()
            for (path, _) in sockets { UnixSocket.remove(at: FilePath(path)) }
            throw error
        }
        return Entry(record: record, broker: broker, listeners: listeners)
    }

    /// Serves brokers whose QEMU side comes later (``prepareCore(_:guestName:logger:)``): their
    /// listeners, made while QEMU starts. On failure everything started here is stopped.
    static func serve(prepared: [(record: BrokeredChardev, broker: ChardevBroker)], guestDirectory: String,
                      socketGroup: gid_t?) async throws(HostError) -> [Entry] {
        var entries: [Entry] = []
        if !prepared.isEmpty {
            let directory = FilePath(BrokeredChardev.consoleDirectory(guestDirectory: guestDirectory))
            try AtomicFile.makeDirectory(directory)
            if let socketGroup { try UnixSocket.shareDirectory(directory, withGroup: socketGroup) }
        }
        for (index, item) in prepared.enumerated() {
            do throws(HostError) {
                entries.append(try await serve(item.record, broker: item.broker, guestDirectory: guestDirectory,
                                               socketGroup: socketGroup, listening: nil))
            } catch {
                for rest in prepared.dropFirst(index + 1) { await rest.broker.stop() }
                await GuestBrokers(entries: entries, guestDirectory: guestDirectory).stop()
                throw error
            }
        }
        return entries
    }

    /// Stops every broker at once (clients read what they have, logs are synced) and removes
    /// their socket files.
    func stop() async {
        let directory = guestDirectory
        await withTaskGroup(of: Void.self) { group in
            for entry in entries {
                group.addTask { await Self.stop(entry, guestDirectory: directory) }
            }
        }
    }
}

extension ConsoleMode {
    /// The broker's pen rules for a client of this socket.
    var clientMode: ClientMode {
        switch self {
        case .readwrite: .readWrite(force: false)
        case .readonly: .readOnly
        case .force: .readWrite(force: true)
        case .shared: .shared
        }
    }
}

extension BrokerError {
    /// The errno behind a set-up failure, if any.
    var errno: Errno? {
        switch self {
        case .peerSetupFailed(_, _, let errno), .logOpenFailed(_, let errno): errno
        default: nil
        }
    }
}
