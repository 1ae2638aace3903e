import VirtKitDomain

/// ``Network`` -> libvirt's network XML, element for element as libvirt 9.0's
/// `virNetworkDefFormatBuf` writes it.
public enum NetworkFormatter {
    public static func format(_ network: Network) -> String {
        var xml = LibvirtXMLWriter()
        xml.element("network") { xml in
            xml.text("name", [], network.name)
            if let uuid = network.uuid { xml.text("uuid", [], uuid) }
            if let forward = network.forward { writeForward(forward, to: &xml) }
            if network.ownsBridge || network.bridge?.name != nil {
                var attributes: [(String, String?)] = [("name", network.bridge?.name)]
                if network.ownsBridge {
                    attributes += [("stp", network.bridge?.stp == false ? "off" : "on"), ("delay", String(network.bridge?.delay ?? 0))]
                }
                xml.empty("bridge", attributes)
            }
            if let mtu = network.mtu, mtu > 0 { xml.empty("mtu", [("size", String(mtu))]) }
            if let mac = network.mac { xml.empty("mac", [("address", mac)]) }
            if let domain = network.domain {
                xml.empty("domain", [("name", domain.name), ("localOnly", domain.localOnly.map { $0 ? "yes" : "no" })])
            }
            writeDNS(network.dns, to: &xml)
            for ip in network.ips { writeIP(ip, to: &xml) }
        }
        return xml.output
    }

    static func writeForward(_ forward: Network.Forward, to xml: inout LibvirtXMLWriter) {
        let attributes: [(String, String?)] = [("dev", forward.dev), ("mode", forward.mode.rawValue)]
        let nat = forward.mode == .nat && (forward.natAddresses != nil || forward.natPorts != nil)
        // libvirt writes the dev as an <interface> too when one is given.
        guard nat || forward.dev != nil else { return xml.empty("forward", attributes) }
        xml.element("forward", attributes) { xml in
            if nat {
                xml.element("nat") { xml in
                    if let addresses = forward.natAddresses {
                        xml.empty("address", [("start", addresses.start), ("end", addresses.end)])
                    }
                    if let ports = forward.natPorts {
                        xml.empty("port", [("start", String(ports.lowerBound)), ("end", String(ports.upperBound))])
                    }
                }
            }
            if let dev = forward.dev { xml.empty("interface", [("dev", dev)]) }
        }
    }

    static func writeDNS(_ dns: Network.DNS, to xml: inout LibvirtXMLWriter) {
        guard dns.enable != nil || dns.forwardPlainNames != nil || !dns.hosts.isEmpty else { return }
        let attributes: [(String, String?)] = [("enable", dns.enable.map { $0 ? "yes" : "no" }),
                                                ("forwardPlainNames", dns.forwardPlainNames.map { $0 ? "yes" : "no" })]
        guard !dns.hosts.isEmpty else { return xml.empty("dns", attributes) }
        xml.element("dns", attributes) { xml in
            for host in dns.hosts {
                xml.element("host", [("ip", host.ip.description)]) { xml in
                    for name in host.hostnames { xml.text("hostname", [], name) }
                }
            }
        }
    }

    static func writeIP(_ ip: Network.IP, to xml: inout LibvirtXMLWriter) {
        var attributes: [(String, String?)] = [("family", ip.familyWritten ? ip.family.rawValue : nil), ("address", ip.address.description)]
        if ip.writtenAsNetmask {
            attributes.append(("netmask", ip.address.netmask(prefix: ip.prefix).description))
        } else if ip.prefixWritten {
            attributes.append(("prefix", String(ip.prefix)))
        }
        xml.element("ip", attributes) { xml in
            guard !ip.ranges.isEmpty || !ip.hosts.isEmpty else { return }
            xml.element("dhcp") { xml in
                for range in ip.ranges {
                    xml.empty("range", [("start", range.start.description), ("end", range.end.description)])
                }
                for host in ip.hosts {
                    xml.empty("host", [("mac", host.mac), ("id", host.id), ("name", host.name), ("ip", host.ip?.description)])
                }
            }
        }
    }
}
