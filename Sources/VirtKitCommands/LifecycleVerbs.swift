import ArgumentParser
import VirtKitAPI

/// `virtkit start NAME [--paused]`.
struct Start: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start a defined domain.")
    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "Leave the guest paused after start.") var paused = false
    @Argument(help: "The domain name.") var domain: String

    func run() async throws {
        try await runVerb {
            _ = try await connection.client().start(domain, paused: paused)
            print("Domain '\(domain)' started\n")
        }
    }
}

/// `virtkit shutdown NAME`: the ACPI power button, then after --timeout the rest of the stop
/// ladder (quit, SIGTERM, SIGKILL), with progress on stderr.
struct Shutdown: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Shut a domain down gracefully.")
    @OptionGroup var connection: ConnectionOptions
    @Option(help: "acpi (the power button).") var mode: ShutdownRequest.Mode = .acpi
    @Option(help: "Seconds to wait for the guest before forcing it off.") var timeout: Double = 60
    @Flag(name: .customLong("no-wait"), help: "Return once the request is sent, as virsh does.") var noWait = false
    @Argument(help: "The domain name.") var domain: String

    func validate() throws {
        if timeout < 0 { throw ValidationError("--timeout must not be negative") }
    }

    func run() async throws {
        try await runVerb {
            let client = try await connection.client()
            _ = try await client.shutdown(domain, ShutdownRequest(mode: mode, timeoutSeconds: timeout, wait: false))
            print("Domain '\(domain)' is being shutdown\n")
            fflush(nil)
            if noWait { return }
            let clock = ContinuousClock()
            let start = clock.now
            let interactive = isatty(2) != 0
            var lastReported: Int?
            while true {
                let state = try await client.state(domain)
                if state.id == nil { break }
                let seconds = Int((clock.now - start).components.seconds)
                if interactive {
                    DomainFileReader.printRaw(toStderr: "\rwaiting for '\(domain)' to power off: \(seconds) s (forced off after \(Int(timeout)) s)")
                } else if lastReported.map({ $0 / 5 != seconds / 5 }) ?? true {
                    DomainFileReader.printLine(toStderr: "waiting for '\(domain)' to power off: \(seconds) s")
                }
                lastReported = seconds
                try await Task.sleep(for: .milliseconds(200))
            }
            if interactive { DomainFileReader.printRaw(toStderr: "\n") }
            let final = try await client.state(domain)
            print("Domain '\(domain)' is \(final.state.rawValue) (\(final.reason.rawValue))")
        }
    }
}

extension ShutdownRequest.Mode: ExpressibleByArgument {}

/// The verbs that take only a name: destroy, reboot, suspend, resume.
struct Destroy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Stop a domain at once (quit, SIGTERM, SIGKILL).")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The domain name.") var domain: String
    func run() async throws {
        try await runVerb {
            _ = try await connection.client().perform(.destroy, domain)
            print("Domain '\(domain)' destroyed\n")
        }
    }
}

struct Reboot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Reboot a domain (ACPI, as libvirt's default).")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The domain name.") var domain: String
    func run() async throws {
        try await runVerb {
            _ = try await connection.client().perform(.reboot, domain)
            print("Domain '\(domain)' is being rebooted\n")
        }
    }
}

struct Suspend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Pause a running domain.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The domain name.") var domain: String
    func run() async throws {
        try await runVerb {
            _ = try await connection.client().perform(.suspend, domain)
            print("Domain '\(domain)' suspended\n")
        }
    }
}

struct Resume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Resume a paused domain.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The domain name.") var domain: String
    func run() async throws {
        try await runVerb {
            _ = try await connection.client().perform(.resume, domain)
            print("Domain '\(domain)' resumed\n")
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
