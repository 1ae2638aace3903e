/// The dnsmasq configuration of a network, as libvirt 9.0's `networkDnsmasqConfContents`
/// writes it (the conf file, the DHCP hosts file and the extra hosts file), byte for byte
/// (tests/networkxml2confdata holds libvirt's expectations).
public struct DnsmasqConfiguration: Sendable, Equatable {
    /// Where the files go: dnsmasq reads the hosts files by path.
    public struct Paths: Sendable, Equatable {
        public var hostsFile: String
        public var addnHostsFile: String
        /// `pid-file=`; libvirt's tests leave it out.
        public var pidFile: String?

        public init(hostsFile: String, addnHostsFile: String, pidFile: String? = nil) {
            self.hostsFile = hostsFile
            self.addnHostsFile = addnHostsFile
            self.pidFile = pidFile
        }

        /// libvirt's own paths (its tests' expectations name them).
        public static func libvirt(network: String) -> Paths {
            Paths(hostsFile: "/var/lib/libvirt/dnsmasq/\(network).hostsfile",
                  addnHostsFile: "/var/lib/libvirt/dnsmasq/\(network).addnhosts")
        }
    }

    public var conf: String
    /// `dhcp-hostsfile`: one static lease a line.
    public var hostsFile: String
    /// `addn-hosts`: the `<dns><host>` entries.
    public var addnHosts: String

    /// The configuration of `network`, or nil when its bridge has no name yet. Whether dnsmasq
    /// runs at all is ``Network/needsDnsmasq``.
    public static func make(_ network: Network, paths: Paths) -> DnsmasqConfiguration? {
        guard let bridge = network.bridge?.name else { return nil }
        let wantDNS = network.dns.enable != false
        var lines = [
            "##WARNING:  THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE",
            "##OVERWRITTEN AND LOST.  Changes to this configuration should be made using:",
            "##    virsh net-edit \(network.name)",
            "## or other application using the libvirt API.",
            "##",
            "## dnsmasq conf file created by libvirt",
            "strict-order",
        ]
        if !wantDNS { lines.append("port=0") }
        if let domain = network.domain {
            if domain.localOnly == true { lines.append("local=/\(domain.name)/") }
            lines += ["domain=\(domain.name)", "expand-hosts"]
        }
        if wantDNS, network.dns.forwardPlainNames == false { lines += ["domain-needed", "local=//"] }
        if let pid = paths.pidFile { lines.append("pid-file=\(pid)") }
        lines += ["except-interface=lo", "bind-dynamic", "interface=\(bridge)"]
        if network.forward == nil { lines += ["dhcp-option=3", "no-resolv", "ra-param=*,0,0"] }
        let v4 = network.ips.first { $0.family == .ipv4 && $0.hasDHCP }
        let v6 = network.ips.first { $0.family == .ipv6 && $0.hasDHCP }
        var leases = 0
        var hosts: [String] = []
        for ip in [v4, v6].compactMap({ $0 }) { lines += dhcpLines(ip, leases: &leases, hosts: &hosts) }
        if leases > 0 { lines.append("dhcp-lease-max=\(leases)") }
        if v4 != nil || v6 != nil { lines.append("dhcp-hostsfile=\(paths.hostsFile)") }
        if wantDNS { lines.append("addn-hosts=\(paths.addnHostsFile)") }
        if let mtu = network.mtu, mtu > 0 { lines.append("dhcp-option=option:mtu,\(mtu)") }
        if v6 != nil {
            lines.append("enable-ra")
        } else {
            for ip in network.ips where ip.family == .ipv6 { lines.append("dhcp-range=\(ip.address),ra-only") }
        }
        let addn = network.dns.hosts.map { host in host.ip.description + "\t" + host.hostnames.map { $0 + "\t" }.joined() + "\n" }
        return DnsmasqConfiguration(conf: lines.map { $0 + "\n" }.joined(),
                                    hostsFile: hosts.map { $0 + "\n" }.joined(), addnHosts: addn.joined())
    }

    /// The `dhcp-range` lines of one `<ip>`, its lease count and its hosts-file lines.
    static func dhcpLines(_ ip: Network.IP, leases: inout Int, hosts: inout [String]) -> [String] {
        var lines: [String] = []
        for range in ip.ranges {
            let size = ip.family == .ipv6 ? String(ip.prefix) : ip.address.netmask(prefix: ip.prefix).description
            lines.append("dhcp-range=\(range.start),\(range.end),\(size)")
            leases += libvirtRangeSize(range)
        }
        if ip.ranges.isEmpty, !ip.hosts.isEmpty {
            lines.append("dhcp-range=\(ip.address),static" + (ip.family == .ipv6 ? ",\(ip.prefix)" : ""))
        }
        for host in ip.hosts {
            guard let address = host.ip else { continue }
            if ip.family == .ipv6 {
                let who = [host.id.map { "id:" + $0 }, host.name].compactMap { $0 }.joined(separator: ",")
                hosts.append(who + ",[\(address)]")
            } else {
                switch (host.mac, host.name) {
                case let (mac?, name?): hosts.append("\(mac),\(address),\(name)")
                case let (nil, name?): hosts.append("\(name),\(address)")
                case let (mac?, nil): hosts.append("\(mac),\(address)")
                case (nil, nil): break
                }
            }
        }
        if ip.family == .ipv4 { lines += ["dhcp-no-override", "dhcp-authoritative"] }
        return lines
    }

    /// `virSocketAddrGetRange`'s count: for IPv4 the last two bytes' difference plus one; for
    /// IPv6 the last two bytes likewise (libvirt counts no further).
    static func libvirtRangeSize(_ range: Network.IP.Range) -> Int {
        let a = range.start.bytes, b = range.end.bytes
        let n = a.count
        return (Int(b[n - 2]) - Int(a[n - 2])) * 256 + (Int(b[n - 1]) - Int(a[n - 1])) + 1
    }
}

extension Network.IP {
    /// A `<dhcp>` with a range or a host.
    public var hasDHCP: Bool { !ranges.isEmpty || !hosts.isEmpty }
}
