import FoundationEssentials
import SystemPackage
import VirtKitAPI
import VirtKitHost

/// The verbs the `virtkit` executable serves itself, in their common forms, without the argument
/// parser, the concurrency runtime or the domain model: a process that lives for one request
/// spends most of its time starting up, and these are the verbs scripts run in loops and that a
/// start waits on (`qemu-monitor-command`, `define`, `start`).
///
/// ``serve(_:)`` returns the exit status, or nil for anything else (another verb, help, a flag it
/// does not take, no daemon to reach): the full command tree (`virtkit-cli`) then runs, with its
/// checks and messages. Nothing has been sent to a daemon when it returns nil.
public enum FrontVerbs {
    public static func serve(_ arguments: [String]) -> Int32? {
        let arguments = FrontArguments.connectionAfterVerb(arguments)
        switch arguments.first {
        case "qemu-monitor-command": return monitorCommand(arguments.dropFirst())
        case "define": return define(arguments.dropFirst())
        case "start": return start(arguments.dropFirst())
        default: return nil
        }
    }

    /// The CLI sleeps on virtkitd's answer and then exits: like virtkitd's threads it asks the
    /// kernel for the shortest time slice, so that the answer's wake-up does not queue behind a
    /// guest's busy vCPU thread until the next tick, with the other CPU idle. `virtkit-cli`, exec'd for the other verbs, keeps it; what either
    /// spawns gets the default back.
    public static func askForShortSlice() {
        try? ThreadSlice.request(ThreadSlice.shortest)
    }

    /// virsh's `-c` before the verb, moved behind it (the full parser's form too).
    public static func connectionAfterVerb(_ arguments: [String]) -> [String] {
        FrontArguments.connectionAfterVerb(arguments)
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
        return call(address, "POST", APIPath.domains, body: Array(xml.utf8), contentType: "application/xml") { body, location in
            // The name from the answer's Content-Location: JSONDecoder's first use costs this
            // one-request process more than the rest of it (docs/performance.md). The summary is read where a daemon sends none.
            let name = location.flatMap(APIPath.domainName(inPath:))
                ?? (try? JSONDecoder().decode(DomainSummary.self, from: Data(body)))?.name
            return name.map { "Domain '\($0)' defined from \(file)\n\n" }
        }
    }

    /// `start [-c URI] [--paused] NAME`.
    static func start(_ words: ArraySlice<String>) -> Int32? {
        guard let arguments = FrontArguments(words, flags: ["--paused"]), arguments.positional.count == 1,
              let address = arguments.address else { return nil }
        let name = arguments.positional[0]
        let body = startBody(paused: arguments.flags.contains("--paused"))
        return call(address, "POST", APIPath.action(name, .start), body: Array(body.utf8), contentType: "application/json") { _, _ in
            "Domain '\(name)' started\n\n"
        }
    }

    /// ``StartRequest`` as JSON, written out: JSONEncoder's first use costs this process more
    /// than the request (a test decodes it as the API does).
    static func startBody(paused: Bool) -> String {
        paused ? #"{"paused":true}"# : #"{"paused":false}"#
    }

    /// Makes one request; prints `success(body, contentLocation)` for a 2xx answer, or the daemon's error as virsh
    /// does. nil: no daemon reached (nothing was sent).
    static func call(_ address: DaemonAddress, _ method: String, _ path: String, body: [UInt8], contentType: String,
                     success: (_ body: [UInt8], _ contentLocation: String?) -> String?) -> Int32? {
        let socketPath = address.socketPath(environment: DaemonAddress.processEnvironment())
        do {
            switch try DaemonRequest(socketPath: socketPath).send(method: method, path: path, body: body, contentType: contentType) {
            case .unreachable:
                return nil
            case .answered(let status, let answer, let location) where (200..<300).contains(status):
                guard let line = success(answer, location) else {
                    return fail("unexpected answer from virtkitd: \(String(decoding: answer.prefix(200), as: UTF8.self))")
                }
                try? ByteRelay.writeAll(1, Array(line.utf8)[...])
                return 0
            case .answered(let status, let answer, _):
                if let error = try? JSONDecoder().decode(APIErrorBody.self, from: Data(answer)) { return fail(error.error.message) }
                return fail("virtkitd answered HTTP \(status)")
            }
        } catch {
            return fail(error.message)
        }
    }

    static func fail(_ message: String) -> Int32 {
        DomainFileReader.printLine(toStderr: "error: " + message)
        return 1
    }
}
