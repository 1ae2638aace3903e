import ArgumentParser
import FoundationEssentials
import SystemPackage
import VirtKitAPI
import VirtKitClient
import VirtKitHost
#if canImport(Glibc)
import Glibc
#endif

/// `virtkit monitor-ports NAME`: where a guest's monitor channels listen.
struct MonitorPorts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "monitor-ports",
                                                    abstract: "Show where a running domain's monitor channels listen.")
    @OptionGroup var connection: ConnectionOptions
    @Option(help: "text or json.") var format: OutputFormat = .text
    @Argument(help: "The domain name.") var domain: String

    func run() async throws {
        try await runVerb {
            let info = try await connection.client().monitor(domain)
            if format == .json { return printJSON(info) }
            func host(_ address: String) -> String { address.contains(Character(":")) ? "[\(address)]" : address }
            if let path = info.interactiveSocket { print("interactive  unix:\(path)") }
            if let port = info.monitorPort { for a in info.tcpAddresses { print("interactive  tcp:\(host(a)):\(port)") } }
            if let path = info.commandSocket { print("command      unix:\(path)") }
            if let port = info.commandPort { for a in info.tcpAddresses { print("command      tcp:\(host(a)):\(port)") } }
            if let reason = info.tcpDisabledReason { print("TCP monitoring is off: \(reason)") }
        }
    }
}

/// `virtkit qemu-monitor-command NAME [--hmp] CMD...` (virsh's verb): one command over the
/// guest's command channel, one answer.
struct QEMUMonitorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "qemu-monitor-command",
                                                    abstract: "Send one command to a domain's QEMU monitor and print the answer.")
    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "The command is HMP (human monitor) text, not QMP JSON.") var hmp = false
    @Flag(help: "Pretty-print a QMP answer.") var pretty = false
    @Argument(help: "The domain name.") var domain: String
    @Argument(parsing: .allUnrecognized, help: "The command (QMP JSON, or HMP with --hmp).") var command: [String] = []

    func validate() throws {
        if command.isEmpty { throw ValidationError("a command is required") }
    }

    func run() async throws {
        try await runVerb {
            let socket = try await MonitorSocketFinder(connection: connection, domain: domain).connect(.command)
            defer { try? socket.close() }
            if try !MonitorCommandExchange.run(socket: socket, command: command.joined(separator: " "), hmp: hmp, pretty: pretty) {
                throw ExitCode(1)
            }
        }
    }
}

/// Finds a running guest's monitor sockets: first through `<run>/by-name/NAME` (no API round
/// trip), else by asking the daemon.
struct MonitorSocketFinder {
    let connection: ConnectionOptions
    let domain: String

    enum Channel { case interactive, command }

    /// The channel's socket through `<run>/by-name/NAME`, when reachable (no API round trip).
    static func direct(address: DaemonAddress, domain: String, channel: Channel) -> FileDescriptor? {
        let name = channel == .command ? "monitor-command.sock" : "monitor-interactive.sock"
        return ByName.connect(address: address, domain: domain, [name])
    }

    func connect(_ channel: Channel) async throws -> FileDescriptor {
        if let fd = Self.direct(address: connection.address, domain: domain, channel: channel) { return fd }
        let info = try await connection.client().monitor(domain)
        guard let path = channel == .command ? info.commandSocket : info.interactiveSocket else {
            throw APIError(.operationFailed, "operation failed: domain '\(domain)' has no monitor socket")
        }
        do {
            return try UnixSocket.connect(to: FilePath(path))
        } catch {
            throw APIError(.operationFailed, "operation failed: \(error)")
        }
    }
}
