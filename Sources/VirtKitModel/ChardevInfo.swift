/// One chardev virtkitd serves for a running guest (`GET /v1/domains/{name}/chardevs`).
public struct ChardevInfo: Codable, Sendable, Equatable {
    /// The device alias (`serial0`, `channel1`).
    public var alias: String
    /// `serial`, `parallel`, `console`, `channel` or `guestfwd`.
    public var role: String
    /// The names a client may use: the alias, `console0` for a serial console, a channel's name.
    public var names: [String]
    /// A virtio channel's target name.
    public var targetName: String?
    /// Whether `virtkit console NAME` without a device name gets this one.
    public var isDefaultConsole: Bool
    /// The pty QEMU allocated, when the source is a pty (virtkitd holds it open).
    public var pty: String?
    /// The domain's own socket path, served by virtkitd, when the source is a bind-mode socket.
    public var path: String?
    /// The chardev's log (rotated: `.1`, `.2`, ... are older).
    public var log: String?
    /// Client sockets by mode: `readwrite`, `readonly`, `force`, `shared`.
    public var sockets: [String: String]
    public var clients: Int
    public var bytesFromGuest: Int
    public var bytesToGuest: Int
    /// Bytes of guest output the log could not write (disk full and the like).
    public var logBytesLost: Int

    public init(alias: String, role: String, names: [String], targetName: String?, isDefaultConsole: Bool,
                pty: String?, path: String?, log: String?, sockets: [String: String], clients: Int,
                bytesFromGuest: Int, bytesToGuest: Int, logBytesLost: Int) {
        self.alias = alias
        self.role = role
        self.names = names
        self.targetName = targetName
        self.isDefaultConsole = isDefaultConsole
        self.pty = pty
        self.path = path
        self.log = log
        self.sockets = sockets
        self.clients = clients
        self.bytesFromGuest = bytesFromGuest
        self.bytesToGuest = bytesToGuest
        self.logBytesLost = logBytesLost
    }
}
