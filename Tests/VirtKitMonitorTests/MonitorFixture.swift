import Foundation
import Logging
import Synchronization
import SystemPackage
import Testing
import VirtKitTestSupport
import VirtKitMonitor
import VirtKitQMP

/// A real QEMU, the daemon's QMP client to it, and a monitor server on top.
struct MonitorFixture {
    let qemu: QEMUInstance
    let qmp: QMP.Client
    let server: MonitorServer
    let configuration: MonitorServer.Configuration

    /// The UNIX endpoint of `channel`.
    func unix(_ channel: MonitorChannel) -> MonitorEndpoint.Address {
        .unix(path: configuration.socketPath(for: channel))
    }

    /// Every endpoint of `channel`.
    func addresses(_ channel: MonitorChannel) -> [MonitorEndpoint.Address] {
        server.endpoints.filter { $0.channel == channel }.map(\.address)
    }

    /// Starts QEMU (with `qemuArguments`) and a server configured by `configure` with
    /// `policy`, runs `body`, and always stops the server, closes QMP and kills QEMU.
    static func with(
        tcp: MonitorServer.TCPPlan = .disabled,
        qemuArguments: [String] = [],
        policy: MonitorPolicy = .allowAll,
        configure: (inout MonitorServer.Configuration) -> Void = { _ in },
        _ body: (MonitorFixture) async throws -> Void
    ) async throws {
        try await QEMUInstance.with(extraArguments: qemuArguments) { qemu in
            let qmp = try await qemu.connect()
            var configuration = MonitorServer.Configuration(
                guestName: QEMUInstance.guestName, unixDirectory: FilePath(qemu.directory), tcp: tcp)
            configure(&configuration)
            let server = try await MonitorServer.start(
                configuration: configuration, qmp: qmp, policy: policy, logger: testLogger)
            let fixture = MonitorFixture(qemu: qemu, qmp: qmp, server: server, configuration: configuration)
            do {
                try await body(fixture)
            } catch {
                await server.stop()
                await qmp.close()
                throw error
            }
            await server.stop()
            await qmp.close()
        }
    }
}

let testLogger: Logger = {
    var logger = Logger(label: "VirtKitMonitorTests")
    logger.logLevel = .error
    return logger
}()

/// A TCP base port for a test: below the ephemeral range, away from qemu-init's 30320.
func randomBasePort() -> Int { Int.random(in: 20_000...28_000) }

/// Whether the host has IPv6 loopback (::1 on lo).
let hostHasIPv6Loopback: Bool = {
    let table = (try? String(contentsOfFile: "/proc/net/if_inet6", encoding: .utf8)) ?? ""
    return table.split(separator: "\n").contains { $0.hasPrefix("00000000000000000000000000000001") }
}()

/// The sockets in /proc/self/fd that belong to monitor endpoints: server side (listening or
/// accepted: local port in `ports`, or bound to one of `paths`) and client side (remote port
/// in `ports`). Counting by inode is exact even while other tests open descriptors.
struct SocketCensus: Equatable {
    var serverSide: Int
    var clientSide: Int

    static func take(ports: Set<Int>, paths: Set<String>) -> SocketCensus {
        var serverInodes = Set<String>()
        var clientInodes = Set<String>()
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            let text = lossyText(table)
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ")
                guard fields.count > 9 else { continue }
                let local = port(of: fields[1])
                let remote = port(of: fields[2])
                if let local, ports.contains(local) { serverInodes.insert(String(fields[9])) }
                if let remote, ports.contains(remote) { clientInodes.insert(String(fields[9])) }
            }
        }
        let unixTable = lossyText("/proc/net/unix")
        for line in unixTable.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ")
            guard fields.count >= 8, paths.contains(String(fields[7])) else { continue }
            serverInodes.insert(String(fields[6]))
        }
        var census = SocketCensus(serverSide: 0, clientSide: 0)
        for fd in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + fd),
                target.hasPrefix("socket:[")
            else { continue }
            let inode = String(target.dropFirst("socket:[".count).dropLast())
            if serverInodes.contains(inode) { census.serverSide += 1 }
            if clientInodes.contains(inode) { census.clientSide += 1 }
        }
        return census
    }

    /// What the tables show for `ports` and `paths`, for a failure's message.
    static func explain(ports: Set<Int>, paths: Set<String>) -> String {
        var lines: [String] = []
        for table in ["/proc/net/tcp", "/proc/net/tcp6", "/proc/net/unix"] {
            let text = lossyText(table)
            let rows = text.split(separator: "\n").filter { row in
                paths.contains { row.hasSuffix(" " + $0) } || ports.contains { row.contains(String(format: ":%04X ", $0)) }
            }
            lines.append("\(table): \(text.utf8.count) bytes, \(rows.count) rows for ours: \(rows.prefix(8).joined(separator: " | "))")
        }
        return lines.joined(separator: "\n")
    }

    /// A /proc table as text; a socket name that is not UTF-8 (another process may bind one)
    /// must not empty the whole table, as a strict UTF-8 read does.
    private static func lossyText(_ path: String) -> String {
        // Read to the end: /proc files report a size of 0.
        guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? handle.close() }
        return String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
    }

    private static func port(of field: Substring) -> Int? {
        guard let colon = field.lastIndex(of: ":") else { return nil }
        return Int(field[field.index(after: colon)...], radix: 16)
    }

    /// Takes censuses until one equals `expected` (closing is asynchronous) or `timeout`.
    static func wait(
        for expected: SocketCensus, ports: Set<Int>, paths: Set<String>, timeout: Duration = .seconds(10)
    ) async throws -> SocketCensus {
        let deadline = ContinuousClock.now + timeout
        var census = take(ports: ports, paths: paths)
        while census != expected, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            census = take(ports: ports, paths: paths)
        }
        return census
    }
}

/// Counts calls, for policy callbacks.
final class CallCounter: Sendable {
    private let count = Mutex(0)
    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
