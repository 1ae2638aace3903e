import ArgumentParser
import SystemPackage
import VirtKitAPI
#if canImport(Glibc)
import Glibc
import VirtKitFront
#endif

/// `virtkit monitor NAME`: the guest's interactive monitor channel on this terminal (HMP with
/// QEMU's banner and `(qemu)` prompt). Ctrl-] or end of input leaves. On a terminal the line is
/// edited by the terminal itself (canonical mode: backspace, Ctrl-U, Ctrl-W), and Ctrl-] ends
/// a line at once so it can be seen; piped input is sent as it is and the answers are awaited.
struct Monitor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "monitor", abstract: "Talk to a running domain's QEMU monitor (Ctrl-] leaves).")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The domain name.") var domain: String

    static let escape: UInt8 = 0x1d

    func run() async throws {
        try await runVerb {
            let socket = try await MonitorSocketFinder(connection: connection, domain: domain).connect(.interactive)
            defer { try? socket.close() }
            let terminal = TerminalMode.lineEditingWithEscape(Self.escape)
            defer { terminal?.restore() }
            if terminal != nil { DomainFileReader.printLine(toStderr: "Connected to the monitor of '\(domain)'; Ctrl-] leaves.") }
            try Self.relay(socket: socket.rawValue)
        }
    }

    /// Copies standard input to the socket and the socket to standard output until Ctrl-], the
    /// server's close, or (for piped input) the end of input followed by the answers.
    static func relay(socket: Int32) throws {
        var inputOpen = true
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            var fds = [pollfd(fd: socket, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: 0, events: inputOpen ? Int16(POLLIN) : 0, revents: 0)]
            // After the input ended, wait for the answers to what was sent: the server answers,
            // then closes on our half-close; a silent server is left after 10 s.
            let ready = poll(&fds, inputOpen ? 2 : 1, inputOpen ? -1 : 10_000)
            if ready < 0 { if errno == EINTR { continue } else { return } }
            if ready == 0 { return }
            if fds[0].revents != 0 {
                let n = read(socket, &buffer, buffer.count)
                if n <= 0 { return }
                try writeAll(1, buffer[0..<n])
            }
            if inputOpen && fds[1].revents != 0 {
                let n = read(0, &buffer, buffer.count)
                if n <= 0 {
                    inputOpen = false
                    shutdown(socket, Int32(SHUT_WR))
                    continue
                }
                var chunk = Array(buffer[0..<n])
                if let stop = chunk.firstIndex(of: escape) {
                    chunk = Array(chunk[..<stop])
                    if !chunk.isEmpty { try writeAll(socket, chunk[...]) }
                    print("")
                    return
                }
                try writeAll(socket, chunk[...])
            }
        }
    }

    static func writeAll(_ fd: Int32, _ bytes: ArraySlice<UInt8>) throws {
        try ByteRelay.writeAll(fd, bytes)
    }
}

/// The terminal's settings while `virtkit monitor` runs, restored on exit.
struct TerminalMode {
    let saved: termios

    /// Canonical (line-edited) input with echo, plus `escape` as an extra end-of-line character;
    /// nil when standard input is not a terminal.
    static func lineEditingWithEscape(_ escape: UInt8) -> TerminalMode? {
        guard isatty(0) != 0 else { return nil }
        var current = termios()
        guard tcgetattr(0, &current) == 0 else { return nil }
        let saved = current
        current.c_lflag |= tcflag_t(ICANON | ECHO)
        withUnsafeMutableBytes(of: &current.c_cc) { $0[Int(VEOL)] = escape }
        tcsetattr(0, TCSANOW, &current)
        return TerminalMode(saved: saved)
    }

    func restore() {
        var saved = self.saved
        tcsetattr(0, TCSANOW, &saved)
    }
}
