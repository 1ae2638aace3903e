import VirtKitJSON

extension GuestAgent {
    /// One entry of `guest-network-get-interfaces`.
    public struct NetworkInterface: Sendable, Hashable {
        /// One of an interface's `ip-addresses`.
        public struct Address: Sendable, Hashable {
            /// `ip-address-type`: IPv4 or IPv6.
            public enum Family: String, Sendable, Hashable {
                case ipv4, ipv6
            }

            public var family: Family
            /// `ip-address`, e.g. `10.0.2.15` or `fe80::5054:ff:fe12:3456`.
            public var address: String
            /// `prefix`, the netmask's length.
            public var prefix: Int

            public init(family: Family, address: String, prefix: Int) {
                self.family = family
                self.address = address
                self.prefix = prefix
            }
        }

        /// `statistics`: the interface's counters.
        public struct Statistics: Sendable, Hashable {
            /// `rx-bytes`, `rx-packets`, `rx-errs`, `rx-dropped`.
            public var rxBytes: Int64, rxPackets: Int64, rxErrors: Int64, rxDropped: Int64
            /// `tx-bytes`, `tx-packets`, `tx-errs`, `tx-dropped`.
            public var txBytes: Int64, txPackets: Int64, txErrors: Int64, txDropped: Int64

            public init(rxBytes: Int64, rxPackets: Int64, rxErrors: Int64, rxDropped: Int64,
                        txBytes: Int64, txPackets: Int64, txErrors: Int64, txDropped: Int64) {
                self.rxBytes = rxBytes
                self.rxPackets = rxPackets
                self.rxErrors = rxErrors
                self.rxDropped = rxDropped
                self.txBytes = txBytes
                self.txPackets = txPackets
                self.txErrors = txErrors
                self.txDropped = txDropped
            }
        }

        /// `name`, e.g. `lo`, `eth0`.
        public var name: String
        /// `hardware-address`, e.g. `52:54:00:12:34:56` (missing for some kinds of interface).
        public var hardwareAddress: String?
        /// `ip-addresses`, in the agent's order.
        public var addresses: [Address]
        /// `statistics`, when the agent reports them.
        public var statistics: Statistics?

        public init(name: String, hardwareAddress: String? = nil, addresses: [Address] = [], statistics: Statistics? = nil) {
            self.name = name
            self.hardwareAddress = hardwareAddress
            self.addresses = addresses
            self.statistics = statistics
        }

        init(_ value: JSONValue) throws(GuestAgent.Error) {
            let malformed = GuestAgent.Error.malformed(raw: GuestAgent.Error.excerpt(value.jsonBytes))
            guard let name = value["name"]?.string else { throw malformed }
            var addresses: [Address] = []
            for entry in value["ip-addresses"]?.array ?? [] {
                guard let type = entry["ip-address-type"]?.string, let family = Address.Family(rawValue: type),
                    let address = entry["ip-address"]?.string, let prefix = entry["prefix"]?.int
                else { throw malformed }
                addresses.append(Address(family: family, address: address, prefix: prefix))
            }
            let statistics = value["statistics"].map { stats in
                let count = { (key: String) in stats[key]?.int64 ?? 0 }
                return Statistics(rxBytes: count("rx-bytes"), rxPackets: count("rx-packets"), rxErrors: count("rx-errs"),
                                  rxDropped: count("rx-dropped"), txBytes: count("tx-bytes"), txPackets: count("tx-packets"),
                                  txErrors: count("tx-errs"), txDropped: count("tx-dropped"))
            }
            self.init(name: name, hardwareAddress: value["hardware-address"]?.string, addresses: addresses,
                      statistics: statistics)
        }
    }
}
