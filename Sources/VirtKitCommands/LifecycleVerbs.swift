import ArgumentParser
import VirtKitAPI
import VirtKitClient

/// `virtkit start NAME [--paused]`.
struct Start: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "start", abstract: "Start a defined domain.")
    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "Leave the guest paused after start.") var paused = false
    @Argument(help: "The domain name.") var domain: String

    func run() async throws {
        try await runVerb {
            try await connection.client().start(domain, paused: paused)
            print(VerbOutput.started(name: domain), terminator: "")
        }
    }
}

/// `virtkit autostart NAME [--disable]`: mark a domain to start when the host boots (see
/// docs/cli.md for the order, delay and parallel start that follow).
struct Autostart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "autostart", abstract: "Mark a domain to start with the host (--disable: unmark it).")
    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "Remove the mark.") var disable = false
    @Argument(help: "The domain name.") var domain: String

    func run() async throws {
        try await runVerb {
            _ = try await connection.client().setAutostart(domain, enabled: !disable)
            print(VerbOutput.autostart(name: domain, enabled: !disable), terminator: "")
        }
    }
}

/// `virtkit shutdown NAME | --all`: the ACPI power button, then after --timeout the rest of
/// the stop ladder (quit, SIGTERM, SIGKILL), with progress on stderr. `--all` stops every running
/// guest in parallel.
struct Shutdown: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "shutdown", abstract: "Shut a domain (or --all running domains) down gracefully.")
    @OptionGroup var connection: ConnectionOptions
    @Option(help: "acpi (the power button) or agent (the guest agent's guest-shutdown).") var mode: ShutdownRequest.Mode = .acpi
    @Option(help: "Seconds to wait for the guest before forcing it off.") var timeout: Double = 60
    @Flag(name: .customLong("no-wait"), help: "Return once the request is sent, as virsh does.") var noWait = false
    @Flag(help: "Every running domain: in the reverse of the autostart order, --timeout one deadline for all.") var all = false
    @Option(help: "With --all: at most this many guests shutting down at once (default: all).") var parallel: Int?
    @Option(name: .customLong("on-timeout"),
            help: "A guest still running at the timeout: destroy (the ladder) or leave (left running).")
    var onTimeout: ShutdownRequest.OnTimeout = .destroy
    @Argument(help: "The domain name.") var domain: String?

    func validate() throws {
        if timeout < 0 { throw ValidationError("--timeout must not be negative") }
        if all == (domain != nil) { throw ValidationError("give a domain name or --all, not both") }
        if let parallel, parallel < 1 { throw ValidationError("--parallel must be at least 1") }
        if parallel != nil && !all { throw ValidationError("--parallel goes with --all") }
    }

    func run() async throws {
        try await runVerb {
            let client = try await connection.client()
            let names = all ? try await client.list(all: false).map(\.name) : [domain ?? ""]
            if names.isEmpty { return print("No running domains") }
            if all && !noWait {
                let failed = try await HostShutdown(client: client, mode: mode, timeout: timeout, parallel: parallel,
                                                    onTimeout: onTimeout).run(names)
                for name in names {
                    let final = try await client.state(name)
                    print("Domain '\(name)' is \(final.state.rawValue) (\(final.reason.rawValue))")
                }
                for (name, reason) in failed { DomainFileReader.printLine(toStderr: "error: domain '\(name)': \(reason)") }
                if !failed.isEmpty { throw ExitCode.failure }
                return
            }
            for name in names {
                _ = try await client.shutdown(name, ShutdownRequest(mode: mode, timeoutSeconds: timeout, wait: false, onTimeout: onTimeout))
                print("Domain '\(name)' is being shutdown\n")
            }
            fflush(nil)
            if noWait { return }
            try await Self.waitForAll(names, client: client, timeout: timeout)
            for name in names {
                let final = try await client.state(name)
                print("Domain '\(name)' is \(final.state.rawValue) (\(final.reason.rawValue))")
            }
        }
    }

    /// Polls until every named domain has stopped, showing how many are left on stderr.
    static func waitForAll(_ names: [String], client: DaemonClient, timeout: Double) async throws {
        let clock = ContinuousClock()
        let start = clock.now
        var progress = ProgressLine()
        while true {
            var left: [String] = []
            for name in names where try await client.state(name).id != nil { left.append(name) }
            if left.isEmpty { break }
            let seconds = Int((clock.now - start).components.seconds)
            let what = names.count == 1 ? "'\(names[0])'" : "\(left.count) of \(names.count) domains (\(left.joined(separator: ", ")))"
            progress.show("waiting for \(what) to power off: \(seconds) s (forced off after \(Int(timeout)) s)", seconds: seconds)
            try await Task.sleep(for: .milliseconds(200))
        }
        progress.finish()
    }
}

extension ShutdownRequest.Mode: ExpressibleByArgument {}
extension ShutdownRequest.OnTimeout: ExpressibleByArgument {}

/// The verbs that take only a name and post one action: destroy, reboot, suspend, resume.
protocol NameOnlyVerb: AsyncParsableCommand {
    static var action: DomainAction { get }
    /// virsh's words after the domain's name (`destroyed`).
    static var outcome: String { get }
    var connection: ConnectionOptions { get }
    var domain: String { get }
}

extension NameOnlyVerb {
    func run() async throws {
        try await runVerb {
            _ = try await connection.client().perform(Self.action, domain)
            print("Domain '\(domain)' \(Self.outcome)\n")
        }
    }
}

struct Destroy: NameOnlyVerb {
    static let configuration = CommandConfiguration(commandName: "destroy", abstract: "Stop a domain at once (quit, SIGTERM, SIGKILL).")
    static let action = DomainAction.destroy
    static let outcome = "destroyed"
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The domain name.") var domain: String
}

struct Reboot: NameOnlyVerb {
    static let configuration = CommandConfiguration(commandName: "reboot", abstract: "Reboot a domain (ACPI, as libvirt's default).")
    static let action = DomainAction.reboot
    static let outcome = "is being rebooted"
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The domain name.") var domain: String
}

struct Suspend: NameOnlyVerb {
    static let configuration = CommandConfiguration(commandName: "suspend", abstract: "Pause a running domain.")
    static let action = DomainAction.suspend
    static let outcome = "suspended"
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The domain name.") var domain: String
}

struct Resume: NameOnlyVerb {
    static let configuration = CommandConfiguration(commandName: "resume", abstract: "Resume a paused domain.")
    static let action = DomainAction.resume
    static let outcome = "resumed"
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The domain name.") var domain: String
}

#if canImport(Glibc)
import Glibc
#endif
