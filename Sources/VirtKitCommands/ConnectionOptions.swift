import ArgumentParser
import FoundationEssentials
import VirtKitAPI
import VirtKitClient

/// `-c URI`, shared by every verb that talks to a daemon (virsh's `-c`; VIRTKIT_DEFAULT_URI).
struct ConnectionOptions: ParsableArguments {
    @Option(name: [.customShort("c"), .long],
            help: "virtkit:///system, virtkit:///session or virtkit+unix:///path/to/socket.")
    var connect: String?

    func validate() throws {
        if let connect, DaemonAddress(uri: connect) == nil {
            throw ValidationError("unsupported connection URI '\(connect)'")
        }
    }

    var address: DaemonAddress { DaemonAddress.chosen(connect: connect) ?? .session }

    /// A client for the chosen daemon; a session daemon that is not running is started.
    func client() async throws(APIError) -> DaemonClient {
        let path = address.socketPath(environment: DaemonAddress.processEnvironment())
        let client = DaemonClient(socketPath: path)
        if address == .session, (try? client.version()) == nil {
            try await SessionDaemonLauncher.start(socketPath: path)
        }
        return client
    }
}

/// Runs a daemon verb: prints `error: MESSAGE` (the daemon's words) and exits 1 on failure.
func runVerb(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as APIError {
        DomainFileReader.printLine(toStderr: "error: " + error.message)
        throw ExitCode(1)
    } catch let error as ExitCode {
        throw error
    } catch {
        DomainFileReader.printError(error)
        throw ExitCode(1)
    }
}
