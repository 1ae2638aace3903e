import VirtKitDomain

/// The checks libvirt 9.0 makes on a whole network: those of `virNetworkDefParseXML` that
/// depend on the forward mode, and those of the network driver's `networkValidate`.
enum NetworkValidator {
    static func validate(_ network: Network, stpGiven: Bool) throws(DomainError) {
        let name = network.name
        let mode = network.forward?.mode
        switch mode {
        case nil:
            break
        case .route, .nat, .open:
            guard let mode, !network.ips.isEmpty else {
                throw DomainError(.xmlError, "\(mode?.rawValue ?? "") forwarding requested, but no IP address provided for network '\(name)'")
            }
            if mode == .open, network.forward?.dev != nil {
                throw DomainError(.xmlError, "forward dev not allowed for network '\(name)' with forward mode='open'")
            }
        case .bridge:
            if network.bridge?.delay != nil || stpGiven {
                throw DomainError(.xmlError,
                                  "bridge delay/stp/zone options only allowed in route, nat, and isolated mode, not in bridge (network '\(name)')")
            }
            if network.bridge?.name != nil, network.forward?.dev != nil {
                throw DomainError(.xmlError,
                                  "A network with forward mode='bridge' can specify a bridge name or a forward dev, but not both (network '\(name)')")
            }
            guard network.bridge?.name != nil else {
                throw DomainError(.configUnsupported,
                                  "network '\(name)' with forward mode='bridge' needs a <bridge name>: macvtap networks are not supported by VirtKit")
            }
            for (element, present) in [("mac", network.mac != nil), ("ip", !network.ips.isEmpty),
                                       ("dns", network.dns != Network.DNS()), ("domain", network.domain != nil)] where present {
                throw DomainError(.configUnsupported, "Unsupported <\(element)> element in network \(name) with forward mode='bridge'")
            }
        }
        for family in [NetworkAddress.Family.ipv4, .ipv6] {
            let withDHCP = network.ips.filter { $0.family == family && (!$0.ranges.isEmpty || !$0.hosts.isEmpty) }
            if withDHCP.count > 1 {
                let label = family == .ipv4 ? "IPv4" : "IPv6"
                throw DomainError(.configUnsupported,
                                  "Multiple \(label) dhcp sections found -- dhcp is supported only for a single \(label) address on each network")
            }
        }
    }
}
