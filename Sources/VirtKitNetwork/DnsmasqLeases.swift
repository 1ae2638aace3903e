import VirtKitDomain

/// dnsmasq's lease file (`dhcp-leasefile`): one lease a line, `EXPIRY MAC IP HOSTNAME CLIENTID`
/// for IPv4 (`*` for an unknown hostname or client id), and after a `duid SERVERDUID` line
/// `EXPIRY IAID IP HOSTNAME CLIENTID` for IPv6, where the client id is the DUID.
public enum DnsmasqLeases {
    public struct Lease: Sendable, Equatable {
        public var expiry: Int64
        /// The MAC address (IPv4); for IPv6 dnsmasq keeps the IAID in its place.
        public var mac: String?
        public var address: NetworkAddress
        public var hostname: String?
        public var clientID: String?
    }

    /// The leases in `text`; lines that are not leases are skipped.
    public static func parse(_ text: String) -> [Lease] {
        var leases: [Lease] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count >= 5, fields[0] != "duid", let expiry = Int64(fields[0]),
                  let address = NetworkAddress(fields[2]) else { continue }
            func known(_ field: String) -> String? { field == "*" ? nil : field }
            let mac = address.family == .ipv4 ? MACAddress.normalise(fields[1]) : nil
            leases.append(Lease(expiry: expiry, mac: mac, address: address, hostname: known(fields[3]), clientID: known(fields[4])))
        }
        return leases
    }
}
