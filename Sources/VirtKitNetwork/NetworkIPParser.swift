import VirtKitDomain

/// A network's `<ip>` and its `<dhcp>`, as libvirt 9.0's `virNetworkIPDefParseXML` and
/// `virSocketAddrGetRange` read and check them.
enum NetworkIPParser {
    static func parse(_ element: XMLElement, network: String) throws(DomainError) -> Network.IP {
        guard let addressText = element.attribute("address") else {
            throw DomainError(.xmlError, "Missing required address attribute in network '\(network)'")
        }
        guard let address = NetworkAddress(addressText) else {
            throw DomainError(.xmlError, "Invalid address '\(addressText)' in network '\(network)'")
        }
        let netmaskText = element.attribute("netmask")
        var netmask: NetworkAddress?
        if let netmaskText {
            guard let parsed = NetworkAddress(netmaskText) else {
                throw DomainError(.xmlError, "Invalid netmask '\(netmaskText)' in network '\(network)'")
            }
            netmask = parsed
        }
        var prefix = 0
        if let text = element.attribute("prefix") {
            guard let value = UInt32(text) else { throw DomainError.invalidUnsigned("prefix", "ip", text) }
            prefix = Int(value)
        }
        let family = element.attribute("family")
        switch family {
        case nil, "ipv4":
            guard address.family == .ipv4 else {
                throw DomainError(.configUnsupported,
                                  "\(family == nil ? "no" : "ipv4") family specified for non-IPv4 address '\(addressText)' in network '\(network)'")
            }
            if let netmask, let netmaskText {
                guard netmask.family == .ipv4, netmask.netmaskPrefix != nil else {
                    throw DomainError(.configUnsupported,
                                      "Invalid netmask '\(netmaskText)' for address '\(addressText)' in network '\(network)' (both must be IPv4)")
                }
                guard prefix == 0 else {
                    throw DomainError(.configUnsupported, "Network '\(network)' IP address cannot have both a prefix and a netmask")
                }
            } else if prefix > 32 {
                throw DomainError(.configUnsupported, "Invalid IPv4 prefix '\(prefix)' in network '\(network)'")
            }
        case "ipv6":
            guard address.family == .ipv6 else {
                throw DomainError(.configUnsupported, "Family 'ipv6' specified for non-IPv6 address '\(addressText)' in network '\(network)'")
            }
            guard netmask == nil else {
                throw DomainError(.configUnsupported, "netmask not allowed for IPv6 address '\(addressText)' in network '\(network)'")
            }
            guard prefix <= 128 else {
                throw DomainError(.configUnsupported, "Invalid IPv6 prefix '\(prefix)' in network '\(network)'")
            }
        default:
            throw DomainError(.xmlError, "Unrecognized family '\(family ?? "")' in network '\(network)'")
        }
        let effective = prefix > 0 ? prefix : (netmask?.netmaskPrefix ?? naturalPrefix(address))
        var ip = Network.IP(address: address, prefix: effective, writtenAsNetmask: netmask != nil, familyWritten: family != nil)
        ip.prefixWritten = prefix > 0
        for child in element.children {
            switch child.name {
            case "dhcp": try parseDHCP(child, into: &ip, network: network)
            default:
                throw DomainError(.configUnsupported, "<\(child.name)> in <ip> of network '\(network)' is not supported by VirtKit")
            }
        }
        return ip
    }

    /// libvirt's `virSocketAddrGetIPPrefix` without a netmask or prefix: the class of an IPv4
    /// address, 64 for IPv6.
    static func naturalPrefix(_ address: NetworkAddress) -> Int {
        guard address.family == .ipv4 else { return address.bytes.allSatisfy { $0 == 0 } ? 0 : 64 }
        let octet = address.bytes[0]
        if address.bytes.allSatisfy({ $0 == 0 }) { return 0 }
        if octet & 0x80 == 0 { return 8 }
        if octet & 0xC0 == 0x80 { return 16 }
        return 24
    }

    static func parseDHCP(_ element: XMLElement, into ip: inout Network.IP, network: String) throws(DomainError) {
        for child in element.children {
            switch child.name {
            case "range": ip.ranges.append(try parseRange(child, ip: ip, network: network))
            case "host": ip.hosts.append(try parseHost(child, ip: ip, network: network))
            default:
                throw DomainError(.configUnsupported, "<\(child.name)> in <dhcp> of network '\(network)' is not supported by VirtKit")
            }
        }
    }

    static func parseRange(_ element: XMLElement, ip: Network.IP, network: String) throws(DomainError) -> Network.IP.Range {
        guard let startText = element.attribute("start") else {
            throw DomainError(.xmlError, "Missing 'start' attribute in dhcp range for network '\(network)'")
        }
        guard let start = NetworkAddress(startText) else {
            throw DomainError(.internalError, "Cannot parse address '\(startText)'")
        }
        guard let endText = element.attribute("end") else {
            throw DomainError(.xmlError, "Missing 'end' attribute in dhcp range for network '\(network)'")
        }
        guard let end = NetworkAddress(endText) else {
            throw DomainError(.internalError, "Cannot parse address '\(endText)'")
        }
        let where_ = "\(ip.address)/\(ip.prefix)"
        guard start.family == end.family else {
            throw DomainError(.internalError, "mismatch of address family in range \(start) - \(end)")
        }
        guard start.family == ip.family else {
            throw DomainError(.internalError, "mismatch of address family in range \(start) - \(end) for network \(ip.address)")
        }
        guard ip.address.contains(start, prefix: ip.prefix), ip.address.contains(end, prefix: ip.prefix) else {
            throw DomainError(.internalError, "range \(start) - \(end) is not entirely within network \(where_)")
        }
        if ip.family == .ipv4 {
            if start == ip.network {
                throw DomainError(.internalError, "start of range \(start) - \(end) in network \(where_) is the network address")
            }
            if end == ip.address.lastAddress(prefix: ip.prefix) {
                throw DomainError(.internalError, "end of range \(start) - \(end) in network \(where_) is the broadcast address")
            }
            guard start.bytes[0...1] == end.bytes[0...1] else {
                throw DomainError(.internalError, "range \(start) - \(end) is too large (> 65535)")
            }
        }
        guard start.count(to: end) != nil else {
            throw DomainError(.internalError, "range \(start) - \(end) is reversed ")
        }
        return .init(start: start, end: end)
    }

    static func parseHost(_ element: XMLElement, ip: Network.IP, network: String) throws(DomainError) -> Network.IP.Host {
        var host = Network.IP.Host()
        if let mac = element.attribute("mac") {
            guard ip.family == .ipv4 else {
                throw DomainError(.xmlError, "Invalid to specify MAC address '\(mac)' in network '\(network)' IPv6 static host definition")
            }
            guard let bytes = MACAddress.parse(mac) else {
                throw DomainError(.xmlError, "Cannot parse MAC address '\(mac)' in network '\(network)'")
            }
            guard !MACAddress.isMulticast(bytes) else {
                throw DomainError(.xmlError, "expected unicast mac address, found multicast '\(mac)' in network '\(network)'")
            }
            host.mac = mac
        }
        if let id = element.attribute("id") {
            if let bad = id.first(where: { !($0.isHexDigit || $0 == ":") }) {
                throw DomainError(.xmlError, "Invalid character '\(bad)' in id '\(id)' of network '\(network)'")
            }
            host.id = id
        }
        if let name = element.attribute("name") {
            guard let first = name.unicodeScalars.first, first.isASCII, first.properties.isAlphabetic || ("0"..."9").contains(first),
                  !name.unicodeScalars.contains(where: { $0.value < 0x21 || $0 == "," || $0 == "#" }) else {
                throw DomainError(.xmlError, "Cannot use host name '\(name)' in network '\(network)'")
            }
            host.name = name
        }
        if let text = element.attribute("ip") {
            guard let address = NetworkAddress(text) else {
                throw DomainError(.xmlError, "Invalid IP address in static host definition for network '\(network)'")
            }
            host.ip = address
        }
        if ip.family == .ipv6 {
            guard host.id != nil || host.name != nil else {
                throw DomainError(.xmlError, "Static host definition in IPv6 network '\(network)' must have id or name attribute")
            }
        } else if host.mac == nil && host.name == nil {
            throw DomainError(.xmlError, "Static host definition in IPv4 network '\(network)' must have mac or name attribute")
        }
        guard host.ip != nil else {
            throw DomainError(.xmlError, "Missing IP address in static host definition for network '\(network)'")
        }
        return host
    }
}
