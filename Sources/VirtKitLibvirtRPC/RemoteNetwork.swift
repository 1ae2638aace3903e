import VirtKitXDR

/// `remote_nonnull_network`: a network handle on the wire (name and uuid).
public struct RemoteNetwork: Equatable, Sendable {
    public var name: String
    public var uuid: [UInt8]

    public init(name: String, uuid: [UInt8]) {
        self.name = name
        self.uuid = uuid
    }

    public func encode(to writer: inout XDRWriter) {
        writer.write(name)
        writer.writeFixedOpaque(uuid)
    }

    public static func decode(from reader: inout XDRReader) throws(XDRError) -> RemoteNetwork {
        let name = try reader.readString(limit: RPCLimits.stringMax, what: "network name")
        return RemoteNetwork(name: name, uuid: try reader.readFixedOpaque(count: RPCLimits.uuidLength))
    }
}

/// `remote_network_dhcp_lease`.
public struct RemoteNetworkLease: Equatable, Sendable {
    public var interface: String
    public var expiryTime: Int64
    /// VIR_IP_ADDR_TYPE_IPV4 (0) or _IPV6 (1).
    public var type: Int32
    public var mac: String?
    public var iaid: String?
    public var address: String
    public var prefix: UInt32
    public var hostname: String?
    public var clientID: String?

    public init(interface: String, expiryTime: Int64, type: Int32, mac: String?, iaid: String?, address: String,
                prefix: UInt32, hostname: String?, clientID: String?) {
        self.interface = interface
        self.expiryTime = expiryTime
        self.type = type
        self.mac = mac
        self.iaid = iaid
        self.address = address
        self.prefix = prefix
        self.hostname = hostname
        self.clientID = clientID
    }

    public func encode(to writer: inout XDRWriter) {
        writer.write(interface)
        writer.write(expiryTime)
        writer.write(type)
        writer.writeOptional(mac) { $0.write($1) }
        writer.writeOptional(iaid) { $0.write($1) }
        writer.write(address)
        writer.write(prefix)
        writer.writeOptional(hostname) { $0.write($1) }
        writer.writeOptional(clientID) { $0.write($1) }
    }
}

extension XDRReader {
    /// `remote_nonnull_network`.
    public mutating func readNetwork() throws(XDRError) -> RemoteNetwork { try RemoteNetwork.decode(from: &self) }
}

/// virConnectListAllNetworks' filter flags (VIR_CONNECT_LIST_NETWORKS_*).
public struct ListAllNetworksFilter: Sendable {
    public static let inactive: UInt32 = 1 << 0
    public static let active: UInt32 = 1 << 1
    public static let persistent: UInt32 = 1 << 2
    public static let transient: UInt32 = 1 << 3
    public static let autostart: UInt32 = 1 << 4
    public static let noAutostart: UInt32 = 1 << 5
    public static let known: UInt32 = 0x3F

    public let flags: UInt32

    public init(flags: UInt32) { self.flags = flags }

    /// Whether a network with these properties passes: each pair of flags filters only when one
    /// of the two is set.
    public func admits(active: Bool, persistent: Bool, autostart: Bool) -> Bool {
        func pass(_ yes: UInt32, _ no: UInt32, _ value: Bool) -> Bool {
            let wantYes = flags & yes != 0, wantNo = flags & no != 0
            return !(wantYes || wantNo) || (value ? wantYes : wantNo)
        }
        return pass(Self.active, Self.inactive, active) && pass(Self.persistent, Self.transient, persistent)
            && pass(Self.autostart, Self.noAutostart, autostart)
    }
}
