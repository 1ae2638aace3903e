/// The nftables rules of a running network, in a table of VirtKit's own per bridge
/// (`inet virtkit_BRIDGE`), so that starting a network adds one table and destroying it deletes
/// that table and nothing else. The rules are libvirt 9.0's iptables rules
/// (bridge_driver_linux.c, tests/networkxml2firewalldata) said in nftables:
/// - every mode but open: guests may reach dnsmasq (DHCP, DNS) on the host; traffic between
///   the bridge's own ports is accepted; any other forwarding into or out of the bridge is
///   rejected unless a rule below accepts it;
/// - nat: the IPv4 subnet may go out, replies may come back (conntrack), and what leaves is
///   masqueraded (ports 1024-65535 for TCP and UDP unless `<nat><port>` says otherwise;
///   multicast 224.0.0.0/24 and broadcast left alone), or SNAT'ed to `<nat><address>`;
///   IPv6 is routed, as libvirt does without `<nat ipv6='yes'>`;
/// - route: the subnets may go out and be reached, untranslated;
/// - open: no rules at all;
/// - isolated: the bridge talks to nothing but itself and dnsmasq.
public enum NetworkRuleset {
    /// The table's name for `bridge`: a bridge name may hold '-' and '.', which nftables names
    /// do not; each other byte becomes `_XX`.
    public static func tableName(bridge: String) -> String {
        var name = "virtkit_"
        for byte in bridge.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                name.append(Character(Unicode.Scalar(byte)))
            default:
                name += "_" + String(byte >> 4, radix: 16) + String(byte & 0xF, radix: 16)
            }
        }
        return name
    }

    /// The `nft -f` script that creates the table of `network`, or nil when it needs none
    /// (open, or a host bridge).
    public static func script(for network: Network) -> String? {
        guard network.ownsBridge, network.forward?.mode != .open, let bridge = network.bridge?.name else { return nil }
        let table = tableName(bridge: bridge)
        let b = "\"\(bridge)\""
        var input = ["iifname \(b) udp dport { 53, 67, 547 } accept", "iifname \(b) tcp dport 53 accept"]
        var output = ["oifname \(b) udp dport { 53, 68, 546 } accept", "oifname \(b) tcp dport 53 accept"]
        var forward = ["iifname \(b) oifname \(b) accept"]
        var postrouting: [String] = []
        let out = network.forward?.dev.map { " oifname \"\($0)\"" } ?? ""
        let inFrom = network.forward?.dev.map { " iifname \"\($0)\"" } ?? ""
        for ip in network.ips {
            let family = ip.family == .ipv4 ? "ip" : "ip6"
            let subnet = "\(ip.network)/\(ip.prefix)"
            switch network.forward?.mode {
            case .nat where ip.family == .ipv4:
                forward.append("iifname \(b)\(out) \(family) saddr \(subnet) accept")
                forward.append("oifname \(b)\(inFrom) \(family) daddr \(subnet) ct state established,related accept")
                postrouting += masquerade(network.forward, subnet: subnet, out: out)
            case .nat, .route:
                forward.append("iifname \(b)\(out) \(family) saddr \(subnet) accept")
                forward.append("oifname \(b)\(inFrom) \(family) daddr \(subnet) accept")
            default:
                break
            }
        }
        forward += ["iifname \(b) reject", "oifname \(b) reject"]
        // libvirt's CHECKSUM --checksum-fill on DHCP replies has no nftables form; old DHCP
        // clients that needed it are long gone, and virtio's offload does not reach a tap here.
        input = input.map { "        " + $0 }
        output = output.map { "        " + $0 }
        var lines = ["table inet \(table) {",
                     "    chain input {", "        type filter hook input priority filter; policy accept;"] + input + ["    }",
                     "    chain output {", "        type filter hook output priority filter; policy accept;"] + output + ["    }",
                     "    chain forward {", "        type filter hook forward priority filter; policy accept;"]
            + forward.map { "        " + $0 } + ["    }"]
        if !postrouting.isEmpty {
            lines += ["    chain postrouting {", "        type nat hook postrouting priority srcnat; policy accept;"]
                + postrouting.map { "        " + $0 } + ["    }"]
        }
        lines.append("}")
        return lines.map { $0 + "\n" }.joined()
    }

    /// libvirt's five masquerading rules, in the order they are evaluated.
    static func masquerade(_ forward: Network.Forward?, subnet: String, out: String) -> [String] {
        let ports = forward?.natPorts ?? 1024...65535
        let portText = ":\(ports.lowerBound)-\(ports.upperBound)"
        let to: (Bool) -> String = { withPorts in
            if let addresses = forward?.natAddresses {
                let range = addresses.start == addresses.end ? addresses.start : "\(addresses.start)-\(addresses.end)"
                return "snat ip to \(range)" + (withPorts ? portText : "")
            }
            return "masquerade" + (withPorts ? " to \(portText)" : "")
        }
        return [
            "ip saddr \(subnet) ip daddr 224.0.0.0/24\(out) return",
            "ip saddr \(subnet) ip daddr 255.255.255.255\(out) return",
            "ip saddr \(subnet) ip daddr != \(subnet)\(out) meta l4proto tcp \(to(true))",
            "ip saddr \(subnet) ip daddr != \(subnet)\(out) meta l4proto udp \(to(true))",
            "ip saddr \(subnet) ip daddr != \(subnet)\(out) \(to(false))",
        ]
    }
}
