/// One line of `virtkit net-list`, and `net-info`.
public struct NetworkSummary: Codable, Sendable, Equatable {
    public var name: String
    public var uuid: String
    public var active: Bool
    public var persistent: Bool
    public var autostart: Bool
    /// The bridge the network's guests are plugged into.
    public var bridge: String?

    public init(name: String, uuid: String, active: Bool, persistent: Bool, autostart: Bool, bridge: String?) {
        self.name = name
        self.uuid = uuid
        self.active = active
        self.persistent = persistent
        self.autostart = autostart
        self.bridge = bridge
    }
}

/// A DHCP lease a network's dnsmasq handed out (`net-dhcp-leases`, `domifaddr`).
public struct NetworkLease: Codable, Sendable, Equatable {
    /// Seconds since the epoch; 0 for a lease that does not expire.
    public var expiryTime: Int64
    public var mac: String
    /// `ipv4` or `ipv6`.
    public var type: String
    public var address: String
    /// The prefix of the network's first `<ip>` of that family.
    public var prefix: Int
    public var hostname: String?
    public var clientID: String?
    /// The network's bridge.
    public var interface: String

    public init(expiryTime: Int64, mac: String, type: String, address: String, prefix: Int, hostname: String?,
                clientID: String?, interface: String) {
        self.expiryTime = expiryTime
        self.mac = mac
        self.type = type
        self.address = address
        self.prefix = prefix
        self.hostname = hostname
        self.clientID = clientID
        self.interface = interface
    }
}
