/// A libvirt virtual network (`<network>`), as VirtKit takes it: the forward modes nat, route,
/// open and bridge, or none (isolated); one bridge; IPv4 and IPv6 `<ip>` with DHCP ranges and
/// static hosts; DNS hosts; the DNS domain; the MTU.
public struct Network: Sendable, Equatable {
    public var name: String
    public var uuid: String?
    public var forward: Forward?
    public var bridge: Bridge?
    /// The bridge's MAC address (libvirt generates one: 52:54:00:xx:xx:xx).
    public var mac: String?
    public var mtu: Int?
    public var domain: DNSDomain?
    public var dns = DNS()
    public var ips: [IP] = []

    public init(name: String) {
        self.name = name
    }

    /// `<forward mode dev>`: how the network reaches the world.
    public struct Forward: Sendable, Equatable {
        public enum Mode: String, Sendable, CaseIterable {
            /// Masqueraded to the host's addresses (libvirt's default network).
            case nat
            /// Routed, no translation.
            case route
            /// Routed, and no firewall rules at all.
            case open
            /// An existing host bridge: VirtKit only plugs taps into it.
            case bridge
        }

        public var mode: Mode
        /// `dev`: the host interface the traffic must leave through.
        public var dev: String?
        /// `<nat><address start end/></nat>`.
        public var natAddresses: (start: String, end: String)?
        /// `<nat><port start end/></nat>`.
        public var natPorts: ClosedRange<Int>?

        public init(mode: Mode) {
            self.mode = mode
        }

        public static func == (a: Forward, b: Forward) -> Bool {
            a.mode == b.mode && a.dev == b.dev && a.natAddresses?.start == b.natAddresses?.start
                && a.natAddresses?.end == b.natAddresses?.end && a.natPorts == b.natPorts
        }
    }

    /// `<bridge name stp delay/>`.
    public struct Bridge: Sendable, Equatable {
        public var name: String?
        public var stp: Bool?
        public var delay: Int?

        public init(name: String? = nil, stp: Bool? = nil, delay: Int? = nil) {
            self.name = name
            self.stp = stp
            self.delay = delay
        }
    }

    /// `<domain name localOnly/>`: the DNS domain dnsmasq serves.
    public struct DNSDomain: Sendable, Equatable {
        public var name: String
        public var localOnly: Bool?

        public init(name: String, localOnly: Bool? = nil) {
            self.name = name
            self.localOnly = localOnly
        }
    }

    /// `<dns enable>` with its `<host ip><hostname/></host>` entries.
    public struct DNS: Sendable, Equatable {
        public var enable: Bool?
        /// `forwardPlainNames='no'`: names without a dot are not sent upstream.
        public var forwardPlainNames: Bool?
        public var hosts: [Host] = []

        public init() {}

        public struct Host: Sendable, Equatable {
            public var ip: NetworkAddress
            public var hostnames: [String]

            public init(ip: NetworkAddress, hostnames: [String]) {
                self.ip = ip
                self.hostnames = hostnames
            }
        }
    }

    /// `<ip family address netmask|prefix>` with its `<dhcp>`.
    public struct IP: Sendable, Equatable {
        public var address: NetworkAddress
        public var prefix: Int
        /// Written back as `netmask=` (as it came, for IPv4) rather than `prefix=`.
        public var writtenAsNetmask: Bool
        /// `family='ipv4|ipv6'` as written (libvirt keeps it when given).
        public var familyWritten: Bool
        /// `prefix=` as written (libvirt writes neither netmask nor prefix when neither came).
        public var prefixWritten = true
        public var ranges: [Range] = []
        public var hosts: [Host] = []

        public init(address: NetworkAddress, prefix: Int, writtenAsNetmask: Bool = false, familyWritten: Bool = false) {
            self.address = address
            self.prefix = prefix
            self.writtenAsNetmask = writtenAsNetmask
            self.familyWritten = familyWritten
        }

        public var family: NetworkAddress.Family { address.family }
        /// The network's own address (`192.168.122.0`).
        public var network: NetworkAddress { address.masked(prefix: prefix) }

        /// `<range start end/>`.
        public struct Range: Sendable, Equatable {
            public var start: NetworkAddress
            public var end: NetworkAddress

            public init(start: NetworkAddress, end: NetworkAddress) {
                self.start = start
                self.end = end
            }
        }

        /// `<host mac id name ip/>`: a static lease.
        public struct Host: Sendable, Equatable {
            public var mac: String?
            public var id: String?
            public var name: String?
            public var ip: NetworkAddress?

            public init(mac: String? = nil, id: String? = nil, name: String? = nil, ip: NetworkAddress? = nil) {
                self.mac = mac
                self.id = id
                self.name = name
                self.ip = ip
            }
        }
    }

    /// Whether VirtKit makes the bridge (every mode but `bridge`, which uses a host's).
    public var ownsBridge: Bool { forward?.mode != .bridge }
    /// Whether dnsmasq runs for the network: a bridge of VirtKit's with an address to serve on.
    public var needsDnsmasq: Bool {
        ownsBridge && !ips.isEmpty && (dns.enable != false || ips.contains { !$0.ranges.isEmpty || !$0.hosts.isEmpty })
    }
}
