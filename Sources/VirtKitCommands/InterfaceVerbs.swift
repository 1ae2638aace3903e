import ArgumentParser
import VirtKitAPI
import VirtKitClient
import VirtKitDomain

/// `virtkit domiflist NAME`: as virsh, read from the domain's (live) XML.
struct DomIfList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "domiflist", abstract: "List a domain's network interfaces.")
    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "From the definition rather than the running domain.") var inactive = false
    @Argument(help: "The domain name.") var domain: String

    func run() async throws {
        try await runVerb {
            let interfaces = try DomainParser.parse(xml: try await connection.client().xml(domain, inactive: inactive)).devices.interfaces
            print(VerbOutput.interfaceTable(interfaces.map {
                ($0.targetDev, $0.type, $0.sourceNetwork ?? $0.sourceBridge, $0.model, $0.mac)
            }), terminator: "")
        }
    }
}

/// `virtkit domifaddr NAME [INTERFACE] [--full]`: the addresses of a running domain's
/// `network` interfaces, from their network's DHCP leases (libvirt's default source).
struct DomIfAddr: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "domifaddr", abstract: "Print a running domain's interface addresses (from the DHCP leases).")
    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "Repeat the interface's name and MAC on each of its addresses.") var full = false
    @Option(help: "Where the addresses come from: lease (the only source VirtKit has).") var source = "lease"
    @Argument(help: "The domain name.") var domain: String
    @Argument(help: "Only this interface (its tap name or MAC).") var interface: String?

    func validate() throws {
        guard source == "lease" else { throw ValidationError("--source \(source) is not supported by VirtKit (lease)") }
    }

    func run() async throws {
        try await runVerb {
            let client = try await connection.client()
            guard try client.state(domain).state == .running else {
                throw APIError(.operationInvalid, "Requested operation is not valid: domain is not running")
            }
            var rows: [(name: String, mac: String, leases: [NetworkLease])] = []
            for nic in try DomainParser.parse(xml: try client.xml(domain, inactive: false)).devices.interfaces {
                guard let network = nic.sourceNetwork, let mac = nic.mac else { continue }
                if let interface, interface != nic.targetDev, MACAddress.normalise(interface) != mac { continue }
                let leases = try client.networkLeases(network, mac: mac)
                if !leases.isEmpty { rows.append((nic.targetDev ?? "-", mac, leases)) }
            }
            print(VerbOutput.interfaceAddresses(rows, full: full), terminator: "")
        }
    }
}

/// `virtkit domif-setlink NAME INTERFACE up|down`.
struct DomIfSetLink: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "domif-setlink", abstract: "Set a running domain's NIC link up or down.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The domain name.") var domain: String
    @Argument(help: "The interface: its tap name or MAC address.") var interface: String
    @Argument(help: "up or down.") var state: String

    func validate() throws {
        guard state == "up" || state == "down" else { throw ValidationError("the state must be up or down, not '\(state)'") }
    }

    func run() async throws {
        try await runVerb {
            _ = try await connection.client().setLink(domain, interface: interface, up: state == "up")
            print("Device updated successfully\n")
        }
    }
}
