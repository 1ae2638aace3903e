import ArgumentParser
import SystemPackage
import VirtKitAPI
#if canImport(Glibc)
import Glibc
import VirtKitClient
#endif

/// `virtkit monitor NAME`: the guest's interactive monitor channel on this terminal (HMP with
/// QEMU's banner and `(qemu)` prompt). Ctrl-] or end of input leaves. On a terminal the line is
/// edited by the terminal itself (canonical mode: backspace, Ctrl-U, Ctrl-W), and Ctrl-] ends
/// a line at once so it can be seen; piped input is sent as it is and the answers are awaited.
struct Monitor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "monitor", abstract: "Talk to a running domain's QEMU monitor (Ctrl-] leaves).")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The domain name.") var domain: String

    func run() async throws {
        try await runVerb {
            let socket = try await MonitorSocketFinder(connection: connection, domain: domain).connect(.interactive)
            defer { try? socket.close() }
            let terminal = TerminalMode.lineEditing(escape: ByteRelay.escapeKey)
            defer { terminal?.restore() }
            if terminal != nil { DomainFileReader.printLine(toStderr: "Connected to the monitor of '\(domain)'; Ctrl-] leaves.") }
            // After piped input ends, the answers to what was sent are awaited: the server
            // answers, then closes on the half-close; a silent server is left after 10 s.
            let received = ByteRelay.run(socket: socket.rawValue, escape: ByteRelay.escapeKey, sendInput: true,
                                         lingerAfterInput: 10_000)
            if let failure = received.failure { throw failure }
            if received.escaped { print("") }
        }
    }
}
