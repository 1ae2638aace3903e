import ArgumentParser
import VirtKitAPI
import VirtKitClient
#if canImport(Glibc)
import Glibc
#endif

/// virsh's network verbs over virtkitd's `/v1/networks` API.
struct NetworkVerbs {
    static let all: [any ParsableCommand.Type] = [
        NetDefine.self, NetCreate.self, NetUndefine.self, NetStart.self, NetDestroy.self, NetList.self, NetInfo.self,
        NetDumpXML.self, NetAutostart.self, NetDHCPLeases.self,
    ]
}

/// `virtkit net-define FILE`.
struct NetDefine: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "net-define", abstract: "Define (but don't start) a network from an XML file.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The network XML file ('-' for standard input).") var file: String

    func run() async throws {
        try await runVerb {
            let xml = try DomainFileReader.read(file)
            let network = try await connection.client().defineNetwork(xml: xml)
            print("Network \(network.name) defined from \(file)\n")
        }
    }
}

/// `virtkit net-create FILE`.
struct NetCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "net-create", abstract: "Create and start a transient network from an XML file.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The network XML file ('-' for standard input).") var file: String

    func run() async throws {
        try await runVerb {
            let network = try await connection.client().defineNetwork(xml: try DomainFileReader.read(file), start: true)
            print("Network \(network.name) created from \(file)\n")
        }
    }
}

/// `virtkit net-undefine NAME`.
struct NetUndefine: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "net-undefine", abstract: "Undefine a network (an active one runs on, transient).")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The network name.") var network: String

    func run() async throws {
        try await runVerb {
            try await connection.client().undefineNetwork(network)
            print("Network \(network) has been undefined\n")
        }
    }
}

/// `virtkit net-start NAME`.
struct NetStart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "net-start", abstract: "Start a defined network: its bridge, firewall table and dnsmasq.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The network name.") var network: String

    func run() async throws {
        try await runVerb {
            _ = try await connection.client().networkAction(network, start: true)
            print("Network \(network) started\n")
        }
    }
}

/// `virtkit net-destroy NAME`.
struct NetDestroy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "net-destroy", abstract: "Stop a network: its dnsmasq, firewall table and bridge go.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The network name.") var network: String

    func run() async throws {
        try await runVerb {
            _ = try await connection.client().networkAction(network, start: false)
            print("Network \(network) destroyed\n")
        }
    }
}

/// `virtkit net-list [--all | --inactive]`.
struct NetList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "net-list", abstract: "List networks (active ones; --all for every one).")
    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "Inactive networks too.") var all = false
    @Flag(help: "Only inactive networks.") var inactive = false
    @Option(help: "text or json.") var format: OutputFormat = .text

    func run() async throws {
        try await runVerb {
            let networks = try await connection.client().networks().filter { all || ($0.active != inactive) }
            if format == .json { return printJSON(networks) }
            print(VerbOutput.networkTable(networks), terminator: "")
        }
    }
}

/// `virtkit net-info NAME`.
struct NetInfo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "net-info", abstract: "Print basic information about a network.")
    @OptionGroup var connection: ConnectionOptions
    @Option(help: "text or json.") var format: OutputFormat = .text
    @Argument(help: "The network name.") var network: String

    func run() async throws {
        try await runVerb {
            let info = try await connection.client().networkInfo(network)
            if format == .json { return printJSON(info) }
            print(VerbOutput.networkInfo(info), terminator: "")
        }
    }
}

/// `virtkit net-dumpxml NAME [--inactive]`.
struct NetDumpXML: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "net-dumpxml", abstract: "Print a network's XML.")
    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "The definition rather than the running network.") var inactive = false
    @Argument(help: "The network name.") var network: String

    func run() async throws {
        try await runVerb {
            print(try await connection.client().networkXML(network, inactive: inactive), terminator: "")
        }
    }
}

/// `virtkit net-autostart NAME [--disable]`.
struct NetAutostart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "net-autostart", abstract: "Mark a network to start with the host (--disable: unmark it).")
    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "Remove the mark.") var disable = false
    @Argument(help: "The network name.") var network: String

    func run() async throws {
        try await runVerb {
            _ = try await connection.client().setNetworkAutostart(network, enabled: !disable)
            print("Network \(network) \(disable ? "unmarked" : "marked") as autostarted\n")
        }
    }
}

/// `virtkit net-dhcp-leases NAME [--mac MAC]`.
struct NetDHCPLeases: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "net-dhcp-leases", abstract: "Print the DHCP leases of a network.")
    @OptionGroup var connection: ConnectionOptions
    @Option(help: "Only this MAC address's leases.") var mac: String?
    @Option(help: "text or json.") var format: OutputFormat = .text
    @Argument(help: "The network name.") var network: String

    func run() async throws {
        try await runVerb {
            let leases = try await connection.client().networkLeases(network, mac: mac)
            if format == .json { return printJSON(leases) }
            print(VerbOutput.leaseTable(leases, time: Self.localTime), terminator: "")
        }
    }

    /// virsh's expiry time: local time, `%Y-%m-%d %H:%M:%S`.
    static func localTime(_ seconds: Int64) -> String {
        var time = time_t(seconds)
        var parts = tm()
        localtime_r(&time, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let n = strftime(&buffer, buffer.count, "%Y-%m-%d %H:%M:%S", &parts)
        return String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
