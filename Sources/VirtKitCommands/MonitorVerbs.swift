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
            func host(_ address: String) -> String { address.contains(":") ? "[\(address)]" : address }
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
            let text = command.joined(separator: " ")
            let socket = try await MonitorSocketFinder(connection: connection, domain: domain).connect(.command)
            defer { try? socket.close() }
            _ = try socket.writeAll(Array((text + "\n").utf8))
            var answer: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = try buffer.withUnsafeMutableBytes { try socket.read(into: $0) }
                if n == 0 { break }
                answer += buffer[0..<n]
            }
            // HMP answers in QEMU's \r\n lines; a terminal or a pipe wants \n, and one at the end.
            var output = String(decoding: answer, as: UTF8.self).replacing("\r\n", with: "\n").trimmingSpaces
            if !hmp && pretty { output = JSONIndenter.indent(output).trimmingSpaces }
            print(output)
            if !hmp, output.hasPrefix("{\"error\"") { throw ExitCode(1) }
        }
    }
}

/// Finds a running guest's monitor sockets: first through `<run>/by-name/NAME` (no API round
/// trip), else by asking the daemon.
struct MonitorSocketFinder {
    let connection: ConnectionOptions
    let domain: String

    enum Channel { case interactive, command }

    func connect(_ channel: Channel) async throws -> FileDescriptor {
        let environment = ProcessInfo.processInfo.environment
        let apiSocket = FilePath(connection.address.socketPath(environment: environment))
        let name = channel == .command ? "monitor-command.sock" : "monitor-interactive.sock"
        if !domain.contains("/"), !domain.hasPrefix(".") {
            let direct = apiSocket.removingLastComponent().appending("by-name").appending(domain).appending(name)
            if let fd = try? UnixSocket.connect(to: direct) { return fd }
        }
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

/// Re-indents compact JSON text (virsh's `--pretty`), two spaces a level, strings untouched.
enum JSONIndenter {
    static func indent(_ text: String) -> String {
        var out = ""
        var depth = 0
        var inString = false
        var escaped = false
        func newline() { out += "\n" + String(repeating: "  ", count: depth) }
        var previous: Character = " "
        for character in text.trimmingSpaces {
            if inString {
                out.append(character)
                if escaped { escaped = false } else if character == "\\" { escaped = true } else if character == "\"" { inString = false }
                continue
            }
            switch character {
            case "\"": inString = true; out.append(character)
            case "{", "[":
                out.append(character); depth += 1; newline()
            case "}", "]":
                depth -= 1
                if previous == "{" || previous == "[" {
                    // An empty object or array stays on one line: drop the break added after it opened.
                    while let last = out.last, last == " " || last == "\n" { out.removeLast() }
                } else {
                    newline()
                }
                out.append(character)
            case ",": out.append(character); newline()
            case ":": out += ": "
            case " ", "\n", "\t", "\r": continue
            default: out.append(character)
            }
            previous = character
        }
        return out + "\n"
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}
