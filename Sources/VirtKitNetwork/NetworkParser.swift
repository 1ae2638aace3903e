import VirtKitDomain

/// libvirt's network XML -> ``Network``, with libvirt 9.0's checks and wording
/// (`virNetworkDefParseXML` in network_conf.c). What VirtKit does not build (port groups,
/// virtual ports, VLANs, bandwidth, static routes, the hostdev and macvtap forward modes, SRV
/// and TXT records, TFTP) is refused by name rather than dropped.
public enum NetworkParser {
    public static func parse(_ text: String) throws(DomainError) -> Network {
        let root = try XMLDocumentParser.parse(text, sourceName: "network")
        guard root.name == "network" else {
            throw DomainError(.xmlError, "unexpected root element <\(root.name)>, expecting <network>")
        }
        return try parse(root)
    }

    static let unsupported = ["portgroup", "virtualport", "vlan", "bandwidth", "route", "port"]

    static func parse(_ root: XMLElement) throws(DomainError) -> Network {
        guard let name = root.child("name")?.text, !name.isEmpty else {
            throw DomainError(.xmlError, "missing name information")
        }
        try DomainValidator.validateName(name)
        var network = Network(name: name)
        for child in root.children where unsupported.contains(child.name) {
            throw DomainError(.configUnsupported, "<\(child.name)> in network '\(name)' is not supported by VirtKit")
        }
        if let uuid = root.child("uuid")?.text {
            guard let normal = UUIDText.normalise(uuid) else { throw DomainError(.internalError, "malformed uuid element") }
            network.uuid = normal
        }
        if let domain = root.child("domain"), let domainName = domain.attribute("name") {
            network.domain = .init(name: domainName, localOnly: try yesNo(domain, "localOnly"))
        }
        if let bridge = root.child("bridge") {
            for attribute in ["zone", "macTableManager"] where bridge.attribute(attribute) != nil {
                throw DomainError(.configUnsupported, "<bridge \(attribute)> in network '\(name)' is not supported by VirtKit")
            }
            var value = Network.Bridge(name: bridge.attribute("name"))
            if let stp = bridge.attribute("stp") { value.stp = stp != "off" }
            if let delay = bridge.attribute("delay") {
                guard let number = Int(delay), number >= 0 else {
                    throw DomainError(.xmlError, "Invalid delay value in network '\(name)'")
                }
                value.delay = number
            }
            if let bridgeName = value.name { try validateBridgeName(bridgeName, network: name) }
            network.bridge = value
        }
        if let mac = root.child("mac")?.attribute("address") {
            guard let bytes = MACAddress.parse(mac) else {
                throw DomainError(.xmlError, "Invalid bridge mac address '\(mac)' in network '\(name)'")
            }
            guard !MACAddress.isMulticast(bytes) else {
                throw DomainError(.xmlError, "Invalid multicast bridge mac address '\(mac)' in network '\(name)'")
            }
            network.mac = MACAddress.format(bytes)
        }
        if let mtu = root.child("mtu")?.attribute("size") {
            guard let size = Int(mtu), size >= 0, size <= Int(UInt32.max) else {
                throw DomainError(.xmlError, "Invalid mtu size '\(mtu)' in network '\(name)'")
            }
            network.mtu = size
        }
        if let dns = root.child("dns") { network.dns = try parseDNS(dns, network: name) }
        for ip in root.children(named: "ip") {
            network.ips.append(try NetworkIPParser.parse(ip, network: name))
        }
        if let forward = root.child("forward") { network.forward = try parseForward(forward, network: name) }
        try NetworkValidator.validate(network, stpGiven: root.child("bridge")?.attribute("stp") != nil)
        // libvirt keeps STP on unless it is "off", and a delay of 0, for a bridge of its own.
        if network.ownsBridge {
            var bridge = network.bridge ?? Network.Bridge()
            bridge.stp = bridge.stp ?? true
            bridge.delay = bridge.delay ?? 0
            network.bridge = bridge
        }
        return network
    }

    /// Interface names: what the kernel takes (at most 15 bytes, no '/', ':' or blanks).
    static func validateBridgeName(_ bridge: String, network: String) throws(DomainError) {
        let bad = bridge.isEmpty || bridge.utf8.count > 15 || bridge == "." || bridge == ".."
            || bridge.unicodeScalars.contains { !($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0))) }
        if bad {
            throw DomainError(.xmlError, "Invalid bridge name '\(bridge)' in network '\(network)'")
        }
    }

    static func yesNo(_ element: XMLElement, _ attribute: String) throws(DomainError) -> Bool? {
        guard let value = element.attribute(attribute) else { return nil }
        switch value {
        case "yes": return true
        case "no": return false
        default: throw DomainError.invalidValue(attribute, element.name, value)
        }
    }

    static func parseDNS(_ element: XMLElement, network: String) throws(DomainError) -> Network.DNS {
        var dns = Network.DNS()
        dns.enable = try yesNo(element, "enable")
        dns.forwardPlainNames = try yesNo(element, "forwardPlainNames")
        for child in element.children {
            switch child.name {
            case "host":
                guard let text = child.attribute("ip") else {
                    throw DomainError(.xmlError, "Missing IP address in network '\(network)' DNS HOST record")
                }
                guard let ip = NetworkAddress(text) else {
                    throw DomainError(.xmlError, "Invalid IP address in network '\(network)' DNS HOST record")
                }
                let names = child.children(named: "hostname").map(\.text).filter { !$0.isEmpty }
                guard !names.isEmpty else {
                    throw DomainError(.xmlError, "Missing hostname in network '\(network)' DNS HOST record")
                }
                dns.hosts.append(.init(ip: ip, hostnames: names))
            default:
                throw DomainError(.configUnsupported, "<\(child.name)> in <dns> of network '\(network)' is not supported by VirtKit")
            }
        }
        return dns
    }

    static func parseForward(_ element: XMLElement, network: String) throws(DomainError) -> Network.Forward {
        let modeText = element.attribute("mode") ?? "nat"
        guard let mode = Network.Forward.Mode(rawValue: modeText) else {
            if ["private", "vepa", "passthrough", "hostdev"].contains(modeText) {
                throw DomainError(.configUnsupported, "forward mode '\(modeText)' of network '\(network)' is not supported by VirtKit")
            }
            throw DomainError(.configUnsupported, "unknown forwarding type '\(modeText)'")
        }
        var forward = Network.Forward(mode: mode)
        forward.dev = element.attribute("dev")
        if let dev = forward.dev { try validateBridgeName(dev, network: network) }
        for child in element.children {
            switch child.name {
            case "nat":
                guard mode == .nat else {
                    throw DomainError(.xmlError, "The <nat> element can only be used when <forward> 'mode' is 'nat' in network \(network)")
                }
                try parseNAT(child, into: &forward, network: network)
            case "interface":
                guard child.attribute("dev") == forward.dev || forward.dev == nil, element.children(named: "interface").count == 1 else {
                    throw DomainError(.xmlError, "multiple forwarding interfaces specified for network '\(network)', only one is supported")
                }
                forward.dev = child.attribute("dev")
            default:
                throw DomainError(.configUnsupported, "<\(child.name)> in <forward> of network '\(network)' is not supported by VirtKit")
            }
        }
        return forward
    }

    static func parseNAT(_ element: XMLElement, into forward: inout Network.Forward, network: String) throws(DomainError) {
        if let address = element.child("address") {
            guard let start = address.attribute("start") else {
                throw DomainError(.xmlError, "missing 'start' attribute in <address> element in <nat> in <forward> in network \(network)")
            }
            guard let end = address.attribute("end") else {
                throw DomainError(.xmlError, "missing 'end' attribute in <address> element in <nat> in <forward> in network \(network)")
            }
            guard NetworkAddress(start)?.family == .ipv4 else {
                throw DomainError(.xmlError, "Bad ipv4 start address '\(start)' in <nat> in <forward> in network '\(network)'")
            }
            guard NetworkAddress(end)?.family == .ipv4 else {
                throw DomainError(.xmlError, "Bad ipv4 end address '\(end)' in <nat> in <forward> in network '\(network)'")
            }
            forward.natAddresses = (start, end)
        }
        if let port = element.child("port") {
            guard let start = port.attribute("start").flatMap({ Int($0) }), (0...65535).contains(start) else {
                throw DomainError(.xmlError, "Missing or invalid 'start' attribute in <port> in <nat> in <forward> in network \(network)")
            }
            guard let end = port.attribute("end").flatMap({ Int($0) }), (start...65535).contains(end) else {
                throw DomainError(.xmlError, "Missing or invalid 'end' attribute in <port> in <nat> in <forward> in network \(network)")
            }
            forward.natPorts = start...end
        }
    }
}
