import SystemPackage
import VirtKitAPI
import VirtKitClient
import VirtKitHost

/// The verbs the `virtkit` executable serves itself, in their common forms, without the argument
/// parser, the concurrency runtime or the domain model: a process that lives for one request
/// spends most of its time starting up, and these are the verbs scripts run in loops and that a
/// start waits on (`qemu-monitor-command`, `define`, `start`, `list`).
///
/// ``serve(_:)`` returns the exit status, or nil for anything else (another verb, help, a flag it
/// does not take, no daemon to reach): the full command tree (`virtkit-cli`) then runs, with its
/// checks and messages. Nothing has been sent to a daemon when it returns nil.
public enum FrontVerbs {
    public static func serve(_ arguments: [String]) -> Int32? {
        let arguments = DaemonAddress.connectionAfterVerb(arguments)
        switch arguments.first {
        case "qemu-monitor-command": return monitorCommand(arguments.dropFirst())
        case "define": return define(arguments.dropFirst())
        case "start": return start(arguments.dropFirst())
        case "list": return list(arguments.dropFirst())
        default: return nil
        }
    }

    /// The CLI sleeps on virtkitd's answer and then exits: like virtkitd's threads it asks the
    /// kernel for the shortest time slice, so that the answer's wake-up does not queue behind a
    /// guest's busy vCPU thread until the next tick, with the other CPU idle. `virtkit-cli`,
    /// exec'd for the other verbs, keeps it; what either spawns gets the default back.
    public static func askForShortSlice() {
        try? ThreadSlice.request(ThreadSlice.shortest)
    }

    /// `qemu-monitor-command [-c URI] [--hmp] [--pretty] NAME CMD...` whose guest's command socket
    /// is reachable through `by-name`.
    static func monitorCommand(_ words: ArraySlice<String>) -> Int32? {
        guard let arguments = FrontArguments(words, flags: ["--hmp", "--pretty"]),
              arguments.positional.count >= 2, let address = arguments.address,
              let socket = ByName.connect(address: address, domain: arguments.positional[0], ["monitor-command.sock"])
        else { return nil }
        defer { try? socket.close() }
        do {
            let command = arguments.positional.dropFirst().joined(separator: " ")
            let ok = try MonitorCommandExchange.run(socket: socket, command: command, hmp: arguments.flags.contains("--hmp"),
                                                    pretty: arguments.flags.contains("--pretty"))
            return ok ? 0 : 1
        } catch {
            DomainFileReader.printLine(toStderr: "error: \(error)")
            return 1
        }
    }

    /// `define [-c URI] FILE` (not standard input: it could not be read again by the full tree).
    static func define(_ words: ArraySlice<String>) -> Int32? {
        guard let arguments = FrontArguments(words, flags: []), arguments.positional.count == 1,
              arguments.positional[0] != "-", let address = arguments.address else { return nil }
        let file = arguments.positional[0]
        let xml: String
        do {
            xml = try DomainFileReader.read(file)
        } catch {
            return fail(error.description)
        }
        return run(address) { client throws(APIError) in
            VerbOutput.defined(name: try client.define(xml: xml), file: file)
        }
    }

    /// `start [-c URI] [--paused] NAME`.
    static func start(_ words: ArraySlice<String>) -> Int32? {
        guard let arguments = FrontArguments(words, flags: ["--paused"]), arguments.positional.count == 1,
              let address = arguments.address else { return nil }
        let name = arguments.positional[0]
        return run(address) { client throws(APIError) in
            try client.start(name, paused: arguments.flags.contains("--paused"))
            return VerbOutput.started(name: name)
        }
    }

    /// `list [-c URI] [--all]` (not `--format`: the full tree has it).
    static func list(_ words: ArraySlice<String>) -> Int32? {
        guard let arguments = FrontArguments(words, flags: ["--all"]), arguments.positional.isEmpty,
              let address = arguments.address else { return nil }
        return run(address) { client throws(APIError) in
            VerbOutput.domainTable(try client.list(all: arguments.flags.contains("--all")))
        }
    }

    /// Runs `body` against the daemon at `address` and prints what it returns, or the daemon's
    /// error as virsh does. nil: no daemon reached (nothing was sent), for the full tree to
    /// handle (it starts a session daemon).
    static func run(_ address: DaemonAddress, _ body: (DaemonClient) throws(APIError) -> String) -> Int32? {
        let client = DaemonClient(socketPath: address.socketPath(environment: DaemonAddress.processEnvironment()))
        do {
            let line = try body(client)
            try? ByteRelay.writeAll(1, Array(line.utf8)[...])
            return 0
        } catch {
            if error.code == .noConnect { return nil }
            return fail(error.message)
        }
    }

    static func fail(_ message: String) -> Int32 {
        DomainFileReader.printLine(toStderr: "error: " + message)
        return 1
    }
}
