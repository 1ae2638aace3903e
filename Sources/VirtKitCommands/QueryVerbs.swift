import ArgumentParser
import FoundationEssentials
import VirtKitAPI
import VirtKitClient

/// `--format text|json` where output is a table.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

func printJSON<T: Encodable>(_ value: T) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    if let data = try? encoder.encode(value) { print(String(decoding: data, as: UTF8.self)) }
}

/// `virtkit list [--all] [--format json]`, laid out as virsh lays it out.
struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List domains (running ones; --all for every one).")
    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "Inactive domains too.") var all = false
    @Flag(help: "Only the domains marked to start with the host.") var autostart = false
    @Flag(name: .customLong("no-autostart"), help: "Only the domains not marked to start with the host.") var noAutostart = false
    @Option(help: "text or json.") var format: OutputFormat = .text

    func validate() throws {
        if autostart && noAutostart { throw ValidationError("--autostart and --no-autostart exclude each other") }
    }

    func run() async throws {
        try await runVerb {
            let domains = try await connection.client().list(all: all, autostart: autostart ? true : noAutostart ? false : nil)
            if format == .json { return printJSON(domains) }
            print(VerbOutput.domainTable(domains), terminator: "")
        }
    }
}

/// `virtkit domstate NAME [--reason]`.
struct DomState: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "domstate", abstract: "Print a domain's state.")
    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "Also the reason.") var reason = false
    @Argument(help: "The domain name.") var domain: String

    func run() async throws {
        try await runVerb {
            let state = try await connection.client().state(domain)
            print(reason ? "\(state.state.rawValue) (\(state.reason.rawValue))" : state.state.rawValue)
        }
    }
}

/// `virtkit dominfo NAME [--format json]`.
struct DomInfo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dominfo", abstract: "Print basic information about a domain.")
    @OptionGroup var connection: ConnectionOptions
    @Option(help: "text or json.") var format: OutputFormat = .text
    @Argument(help: "The domain name.") var domain: String

    func run() async throws {
        try await runVerb {
            let info = try await connection.client().info(domain)
            if format == .json { return printJSON(info) }
            var rows: [(String, String)] = [
                ("Id", info.summary.id.map(String.init) ?? "-"),
                ("Name", info.summary.name),
                ("UUID", info.summary.uuid),
                ("OS Type", info.osType),
                ("State", info.summary.state.rawValue),
                ("CPU(s)", String(info.vcpus)),
            ]
            if let cpu = info.cpuTimeSeconds { rows.append(("CPU time", "\((cpu * 10).rounded() / 10)s")) }
            rows += [
                ("Max memory", "\(info.maxMemoryKiB) KiB"),
                ("Used memory", "\(info.usedMemoryKiB) KiB"),
                ("Persistent", info.persistent ? "yes" : "no"),
                ("Autostart", info.autostart ? "enable" : "disable"),
            ]
            if let pid = info.pid { rows.append(("QEMU pid", String(pid))) }
            if let accelerator = info.accelerator { rows.append(("Accelerator", accelerator)) }
            for channel in info.channels {
                rows.append(("Channel", "\(channel.name) \(channel.connected ? "connected" : "disconnected")"))
            }
            for (key, value) in rows { print(key + ":" + String(repeating: " ", count: max(1, 15 - key.count)) + value) }
            print("")
        }
    }
}
