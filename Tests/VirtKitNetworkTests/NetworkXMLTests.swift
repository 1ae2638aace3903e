import Foundation
import Testing
import VirtKitDomain
@testable import VirtKitNetwork

/// libvirt 9.0's own network test data (tests/networkxml2xmlin|out, tests/networkxml2confdata),
/// copied under Cases/ and RoundTrip/: VirtKit must read, write and configure dnsmasq as libvirt
/// does for every network kind it runs.
@Suite struct NetworkXMLTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()

    static func read(_ path: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(path), encoding: .utf8)
    }

    static let roundTrips = ["nat-network", "isolated-network", "routed-network-no-dns", "open-network",
                             "nat-network-dns-hosts", "nat-network-mtu", "set-mtu", "host-bridge-net",
                             "nat-network-forward-nat-address", "nat-network-dns-forward-plain"]

    @Test("networkxml2xml: libvirt's input reads and writes back as libvirt writes it", arguments: roundTrips)
    func roundTrip(_ name: String) throws {
        let network = try NetworkParser.parse(try Self.read("RoundTrip/\(name).in.xml"))
        #expect(NetworkFormatter.format(network) == (try Self.read("RoundTrip/\(name).out.xml")))
        // What VirtKit writes reads back to the same network.
        #expect(try NetworkParser.parse(NetworkFormatter.format(network)) == network)
    }

    static let confCases = ["nat-network", "isolated-network", "routed-network", "nat-network-dns-hosts", "nat-network-mtu",
                            "dhcp6-nat-network", "nat-network-dns-local-domain", "dhcp6-network",
                            "open-network", "routed-network-no-dns"]

    @Test("networkxml2conf: dnsmasq's configuration and hosts file are libvirt's, byte for byte", arguments: confCases)
    func dnsmasqConfiguration(_ name: String) throws {
        let network = try NetworkParser.parse(try Self.read("Cases/\(name).xml"))
        let configuration = try #require(DnsmasqConfiguration.make(network, paths: .libvirt(network: network.name)))
        #expect(configuration.conf == (try Self.read("Cases/\(name).conf")))
        if let hosts = try? Self.read("Cases/\(name).hostsfile") {
            #expect(configuration.hostsFile == hosts)
        }
    }

    @Test func theDNSHostsGoToTheExtraHostsFileAsLibvirtWritesIt() throws {
        let network = try NetworkParser.parse(try Self.read("Cases/nat-network-dns-hosts.xml"))
        let configuration = try #require(DnsmasqConfiguration.make(network, paths: .libvirt(network: network.name)))
        #expect(configuration.addnHosts == "192.168.122.1\thost\tgateway\t\n")
    }

    @Test func noDnsmasqForAHostBridgeOrANetworkWithoutAddresses() throws {
        let bridge = try NetworkParser.parse(try Self.read("RoundTrip/host-bridge-net.in.xml"))
        #expect(!bridge.needsDnsmasq)
        let bare = try NetworkParser.parse("<network><name>bare</name><bridge name='vk9'/></network>")
        #expect(!bare.needsDnsmasq)
        // No DHCP and DNS disabled: libvirt writes the file in its tests but runs no dnsmasq.
        let quiet = try NetworkParser.parse(try Self.read("Cases/routed-network-no-dns.xml"))
        #expect(!quiet.needsDnsmasq)
        #expect(try NetworkParser.parse(try Self.read("Cases/nat-network.xml")).needsDnsmasq)
    }

    static let refusals: [(xml: String, message: String)] = [
        ("<network><name>n</name><forward mode='nat'/></network>",
         "XML error: nat forwarding requested, but no IP address provided for network 'n'"),
        ("<network><name>n</name><ip address='10.0.0.1' prefix='24'><dhcp><range start='10.0.1.2' end='10.0.1.9'/></dhcp></ip></network>",
         "internal error: range 10.0.1.2 - 10.0.1.9 is not entirely within network 10.0.0.1/24"),
        ("<network><name>n</name><ip address='10.0.0.1' prefix='24'><dhcp><range start='10.0.0.0' end='10.0.0.9'/></dhcp></ip></network>",
         "internal error: start of range 10.0.0.0 - 10.0.0.9 in network 10.0.0.1/24 is the network address"),
        ("<network><name>n</name><ip address='10.0.0.1' prefix='24'><dhcp><range start='10.0.0.9' end='10.0.0.2'/></dhcp></ip></network>",
         "internal error: range 10.0.0.9 - 10.0.0.2 is reversed "),
        ("<network><name>n</name><ip address='10.0.0.1' netmask='255.255.255.0' prefix='24'/></network>",
         "unsupported configuration: Network 'n' IP address cannot have both a prefix and a netmask"),
        ("<network><name>n</name><ip family='ipv6' address='10.0.0.1'/></network>",
         "unsupported configuration: Family 'ipv6' specified for non-IPv6 address '10.0.0.1' in network 'n'"),
        ("<network><name>n</name><ip address='fd00::1' prefix='64'/></network>",
         "unsupported configuration: no family specified for non-IPv4 address 'fd00::1' in network 'n'"),
        ("<network><name>n</name><mac address='01:00:00:00:00:01'/></network>",
         "XML error: Invalid multicast bridge mac address '01:00:00:00:00:01' in network 'n'"),
        ("<network><name>n</name><forward mode='hostdev'/></network>",
         "unsupported configuration: forward mode 'hostdev' of network 'n' is not supported by VirtKit"),
        ("<network><name>n</name><forward mode='bridge'/><bridge name='br0'/><ip address='10.0.0.1'/></network>",
         "unsupported configuration: Unsupported <ip> element in network n with forward mode='bridge'"),
        ("<network><name>n</name><bridge name='this-name-is-too-long'/></network>",
         "XML error: Invalid bridge name 'this-name-is-too-long' in network 'n'"),
        ("<network><name>n</name><bandwidth><inbound average='1000'/></bandwidth></network>",
         "unsupported configuration: <bandwidth> in network 'n' is not supported by VirtKit"),
        ("<network><name>../x</name></network>", "XML error: name ../x cannot contain '/'"),
    ]

    @Test("bad networks are refused with libvirt's words", arguments: refusals)
    func refusal(_ refusal: (xml: String, message: String)) {
        #expect(throws: DomainError.self) { try NetworkParser.parse(refusal.xml) }
        do {
            _ = try NetworkParser.parse(refusal.xml)
        } catch {
            #expect(error.message == refusal.message)
        }
    }

    @Test func addressArithmetic() throws {
        let address = try #require(NetworkAddress("192.168.122.1"))
        #expect(address.masked(prefix: 24).description == "192.168.122.0")
        #expect(address.lastAddress(prefix: 24).description == "192.168.122.255")
        #expect(address.netmask(prefix: 20).description == "255.255.240.0")
        #expect(NetworkAddress("255.255.255.0")?.netmaskPrefix == 24)
        #expect(NetworkAddress("255.0.255.0")?.netmaskPrefix == nil)
        let v6 = try #require(NetworkAddress("2001:db8::1"))
        #expect(v6.masked(prefix: 64).description == "2001:db8::")
        #expect(NetworkAddress("10.0.0.2")?.count(to: try #require(NetworkAddress("10.0.1.1"))) == 256)
        #expect(NetworkAddress("10.0.0.2")?.count(to: try #require(NetworkAddress("10.0.0.1"))) == nil)
    }
}
