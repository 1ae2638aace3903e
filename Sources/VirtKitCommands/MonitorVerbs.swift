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
            let socket = try await MonitorSocketFinder(connection: connection, domain: domain).connect(.command)
            defer { try? socket.close() }
            if try !Self.exchange(socket: socket, command: command.joined(separator: " "), hmp: hmp, pretty: pretty) {
                throw ExitCode(1)
            }
        }
    }

    /// Sends the command, prints the answer; false for a QMP error answer.
    static func exchange(socket: FileDescriptor, command: String, hmp: Bool, pretty: Bool) throws -> Bool {
        _ = try socket.writeAll(Array((command + "\n").utf8))
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try socket.read(into: $0) }
            if n == 0 { break }
            answer += buffer[0..<n]
        }
        // HMP answers in QEMU's \r\n lines; a terminal or a pipe wants \n, and one at the end.
        // Bytes, not String and print: in a binary this size the first dynamic cast (print
        // makes one) scans every protocol conformance, a millisecond of a one-shot command.
        var bytes = answer.withoutCarriageReturnsBeforeNewlines.trimmedOfWhitespace
        if !hmp && pretty {
            bytes = Array(JSONIndenter.indent(String(decoding: bytes, as: UTF8.self)).trimmingSpaces.utf8)
        }
        try ByteRelay.writeAll(1, (bytes + [UInt8(ascii: "\n")])[...])
        return hmp || !bytes.starts(with: Array("{\"error\"".utf8))
    }

    /// The common one-shot case without the argument parser or the concurrency runtime (a
    /// process that lives for one command spends most of its time starting up):
    /// `qemu-monitor-command [-c URI] [--hmp] [--pretty] NAME CMD...` whose guest's command
    /// socket is reachable through `by-name`. Returns the exit status, or nil for anything
    /// else (then the full parser runs, with its checks and messages).
    static func fastPath(_ arguments: [String]) -> Int32? {
        let arguments = VirtKitCommand.connectionAfterVerb(arguments)
        guard arguments.first == "qemu-monitor-command" else { return nil }
        var connect: String?
        var hmp = false
        var pretty = false
        var positional: [String] = []
        // As the parser reads them: the flags anywhere, the rest NAME then CMD words.
        var words = arguments.dropFirst()
        while let word = words.first {
            words = words.dropFirst()
            switch word {
            case "--hmp": hmp = true
            case "--pretty": pretty = true
            case "-c", "--connect":
                guard let uri = words.first else { return nil }
                connect = uri
                words = words.dropFirst()
            default:
                if word.hasPrefix("-") { return nil }
                positional.append(word)
            }
        }
        guard let domain = positional.first, positional.count >= 2 else { return nil }
        let rest = positional[...]
        let environment = ProcessInfo.processInfo.environment
        let address: DaemonAddress
        if let connect {
            guard let parsed = DaemonAddress(uri: connect) else { return nil }
            address = parsed
        } else {
            address = DaemonAddress.fromEnvironment(environment) ?? .session
        }
        guard let socket = MonitorSocketFinder.direct(address: address, domain: domain, channel: .command) else { return nil }
        defer { try? socket.close() }
        do {
            return try exchange(socket: socket, command: rest.dropFirst().joined(separator: " "), hmp: hmp, pretty: pretty) ? 0 : 1
        } catch {
            DomainFileReader.printLine(toStderr: "error: \(error)")
            return 1
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

extension Array where Element == UInt8 {
    /// `\r\n` as `\n`.
    var withoutCarriageReturnsBeforeNewlines: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        for (i, byte) in enumerated() where !(byte == 0x0D && i + 1 < count && self[i + 1] == 0x0A) {
            out.append(byte)
        }
        return out
    }

    /// Without leading and trailing spaces, tabs, CRs and LFs.
    var trimmedOfWhitespace: [UInt8] {
        let blank: Set<UInt8> = [0x20, 0x09, 0x0D, 0x0A]
        guard let first = firstIndex(where: { !blank.contains($0) }), let last = lastIndex(where: { !blank.contains($0) }) else { return [] }
        return Array(self[first...last])
    }
}

/// `<run>/by-name/NAME`: the run directory of a running guest, which the daemon links by name
/// so a client that knows only the name reaches its sockets without an API round trip.
enum ByName {
    /// Connects to the socket at `components` under the guest's run directory; nil when a
    /// name could leave the directory or nothing listens there.
    static func connect(address: DaemonAddress, domain: String, _ components: [String]) -> FileDescriptor? {
        let safe = { (text: String) in !text.isEmpty && !text.contains("/") && !text.hasPrefix(".") }
        guard safe(domain), components.allSatisfy(safe) else { return nil }
        var path = FilePath(address.socketPath(environment: ProcessInfo.processInfo.environment))
            .removingLastComponent().appending("by-name").appending(domain)
        for component in components { path.append(component) }
        return try? UnixSocket.connect(to: path)
    }
}
