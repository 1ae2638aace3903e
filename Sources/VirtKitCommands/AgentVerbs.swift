import ArgumentParser
import FoundationEssentials
import VirtKitAPI
import VirtKitClient

/// `virtkit qemu-agent-command NAME JSON`: virsh's verb, one command to the QEMU guest agent,
/// its reply printed as the agent sent it.
struct QEMUAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qemu-agent-command", abstract: "Send a command to the QEMU guest agent and print its reply.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The domain name.") var domain: String
    @Argument(help: "The command as JSON, e.g. '{\"execute\":\"guest-info\"}' (words are joined with spaces).")
    var command: [String]
    @Option(help: "Seconds to wait for the reply (default 5).") var timeout: Int?
    @Flag(name: .customLong("async"), help: "Do not wait for the reply.") var noWait = false
    @Flag(help: "Wait for the reply as long as it takes.") var block = false
    @Flag(help: "Indent the reply.") var pretty = false

    func validate() throws {
        if [timeout != nil, noWait, block].filter({ $0 }).count > 1 {
            throw ValidationError("--timeout, --async and --block exclude each other")
        }
        if let timeout, timeout < 1 { throw ValidationError("timeout must be positive") }
    }

    func run() async throws {
        let seconds = noWait ? 0 : block ? -2 : timeout ?? -1
        try await runVerb {
            let reply = try await connection.client().agentCommand(
                domain, AgentCommandRequest(command: command.joined(separator: " "), timeout: seconds))
            if !reply.isEmpty { print(pretty ? JSONIndenter.indent(reply) : reply) }
        }
    }
}

/// `virtkit guest-agent NAME ping|info|time|osinfo|hostname|interfaces|users|fsinfo|COMMAND`:
/// a guest agent command by its short name, the `return` value printed readably.
struct GuestAgentVerb: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "guest-agent", abstract: "Ask the QEMU guest agent: ping, info, time, osinfo, hostname, interfaces, users, fsinfo.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The domain name.") var domain: String
    @Argument(help: "ping, info, time, osinfo, hostname, interfaces, users, fsinfo, or any guest-* command.")
    var what: String
    @Option(help: "Seconds to wait for the reply (default 5).") var timeout: Int?

    static let commands = [
        "ping": "guest-ping", "info": "guest-info", "time": "guest-get-time", "osinfo": "guest-get-osinfo",
        "hostname": "guest-get-host-name", "interfaces": "guest-network-get-interfaces",
        "users": "guest-get-users", "fsinfo": "guest-get-fsinfo",
    ]

    func run() async throws {
        let command = Self.commands[what] ?? (what.hasPrefix("guest-") ? what : "guest-" + what)
        try await runVerb {
            let reply = try await connection.client().agentCommand(
                domain, AgentCommandRequest(command: "{\"execute\":\"\(command)\"}", timeout: timeout ?? -1))
            let value = try? JSONDecoder().decode(AgentReply.self, from: Data(reply.utf8))
            switch (what, value?.return) {
            case ("ping", _):
                print("The guest agent answered.")
            case ("time", .number(let nanoseconds)?):
                let date = Date(timeIntervalSince1970: nanoseconds / 1e9)
                print(date.formatted(.iso8601))
            case ("hostname", .object(let fields)?):
                if case .string(let name)? = fields["host-name"] { print(name) } else { print(reply) }
            case (_, let result?):
                print(JSONIndenter.indent(result.json))
            case (_, nil):
                print(reply)
            }
        }
    }
}

/// An agent reply: `{"return": VALUE}`.
struct AgentReply: Decodable {
    var `return`: JSONValue?
}

/// Any JSON value, to print an agent's answer without knowing its shape.
indirect enum JSONValue: Decodable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    /// Compact JSON with sorted keys.
    var json: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return value ? "true" : "false"
        case .number(let value):
            return value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        case .string(let value):
            let data = (try? JSONEncoder().encode(value)) ?? Data("\"\"".utf8)
            return String(decoding: data, as: UTF8.self)
        case .array(let values): return "[" + values.map(\.json).joined(separator: ",") + "]"
        case .object(let fields):
            let data = { (key: String) in (try? JSONEncoder().encode(key)).map { String(decoding: $0, as: UTF8.self) } ?? "\"\"" }
            return "{" + fields.keys.sorted().map { data($0) + ":" + (fields[$0]?.json ?? "null") }.joined(separator: ",") + "}"
        }
    }
}
