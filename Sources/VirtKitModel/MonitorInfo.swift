/// Where a running guest's monitor channels listen (`virtkit monitor-ports`).
public struct MonitorInfo: Codable, Sendable, Equatable {
    /// The interactive channel's UNIX socket (HMP, or QMP when the first line is JSON).
    public var interactiveSocket: String?
    /// The command channel's UNIX socket (one command, one answer).
    public var commandSocket: String?
    /// MONPORT and CTLPORT (= MONPORT + 100) on loopback, when TCP is on.
    public var monitorPort: Int?
    public var commandPort: Int?
    /// The TCP addresses both ports are bound on (127.0.0.1, and ::1 where the host has it).
    public var tcpAddresses: [String]
    /// Why TCP monitoring is off, when it is.
    public var tcpDisabledReason: String?

    public init(interactiveSocket: String?, commandSocket: String?, monitorPort: Int?, commandPort: Int?,
                tcpAddresses: [String], tcpDisabledReason: String?) {
        self.interactiveSocket = interactiveSocket
        self.commandSocket = commandSocket
        self.monitorPort = monitorPort
        self.commandPort = commandPort
        self.tcpAddresses = tcpAddresses
        self.tcpDisabledReason = tcpDisabledReason
    }
}
