/// Which end of a socket the host side is: libvirt's `<source mode='bind|connect'>`.
public enum SocketMode: String, Sendable, Equatable {
    case connect
    case bind
}

/// `<protocol type=...>` of a TCP chardev.
public enum TCPProtocol: String, Sendable, Equatable {
    case raw, telnet, telnets, tls
}

/// `<reconnect enabled='yes|no' timeout='N'/>` inside a connect-mode socket source.
public struct ChardevReconnect: Sendable, Equatable {
    /// nil when the element (or its `enabled` attribute) is absent.
    public var enabled: Bool?
    /// Seconds between attempts; read only when `enabled` is true.
    public var timeout: UInt32
    public init(enabled: Bool? = nil, timeout: UInt32 = 0) {
        self.enabled = enabled
        self.timeout = timeout
    }
}

/// A TCP source: `<source mode host service tls/>` plus `<protocol>`.
public struct TCPSource: Sendable, Equatable {
    public var mode: SocketMode
    public var host: String?
    public var service: String?
    public var `protocol`: TCPProtocol
    /// `tls='yes|no'`; nil when absent (libvirt then follows qemu.conf's chardev_tls, default off).
    public var tls: Bool?
    public var reconnect: ChardevReconnect
    public init(mode: SocketMode = .connect, host: String? = nil, service: String? = nil,
                protocol: TCPProtocol = .raw, tls: Bool? = nil, reconnect: ChardevReconnect = .init()) {
        self.mode = mode
        self.host = host
        self.service = service
        self.protocol = `protocol`
        self.tls = tls
        self.reconnect = reconnect
    }
}

/// A UNIX socket source: `<source mode path>` with an optional `<reconnect>`.
public struct UnixSource: Sendable, Equatable {
    public var mode: SocketMode
    /// nil for a virtio channel whose path VirtKit (like libvirt) generates.
    public var path: String?
    public var reconnect: ChardevReconnect
    public init(mode: SocketMode = .connect, path: String? = nil, reconnect: ChardevReconnect = .init()) {
        self.mode = mode
        self.path = path
        self.reconnect = reconnect
    }
}

/// A UDP source: the connect end (required service) and the optional bind end.
public struct UDPSource: Sendable, Equatable {
    public var bindHost: String?
    public var bindService: String?
    public var connectHost: String?
    public var connectService: String?
    public init(bindHost: String? = nil, bindService: String? = nil, connectHost: String? = nil,
                connectService: String? = nil) {
        self.bindHost = bindHost
        self.bindService = bindService
        self.connectHost = connectHost
        self.connectService = connectService
    }
}

/// `<mouse mode=...>` of a qemu-vdagent source.
public enum VdagentMouseMode: String, Sendable, Equatable {
    case server, client
}

/// What a character device is connected to on the host: libvirt's chardev `type` and `<source>`.
public enum ChardevSource: Sendable, Equatable {
    case null
    case vc
    /// A pseudo-terminal; `path` is live state (the allocated /dev/pts/N), never kept inactive.
    case pty(path: String?)
    case dev(path: String?)
    case file(path: String?, append: Bool?)
    case pipe(path: String?)
    case stdio
    case udp(UDPSource)
    case tcp(TCPSource)
    case unix(UnixSource)
    case spicevmc
    case spiceport(channel: String?)
    /// QEMU's built-in vdagent: clipboard sharing and mouse mode.
    case qemuVdagent(clipboard: Bool?, mouse: VdagentMouseMode?)
    case dbus(channel: String?)
    /// FreeBSD's null-modem pair: parsed and written back, never run by QEMU.
    case nmdm(master: String?, slave: String?)

    /// libvirt's type name (`<serial type='...'>`).
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .vc: return "vc"
        case .pty: return "pty"
        case .dev: return "dev"
        case .file: return "file"
        case .pipe: return "pipe"
        case .stdio: return "stdio"
        case .udp: return "udp"
        case .tcp: return "tcp"
        case .unix: return "unix"
        case .spicevmc: return "spicevmc"
        case .spiceport: return "spiceport"
        case .qemuVdagent: return "qemu-vdagent"
        case .dbus: return "dbus"
        case .nmdm: return "nmdm"
        }
    }

    /// libvirt's `virDomainChrSourceDefIsEqual`: what makes a console the same device as serial 0
    /// (logs, seclabels and TLS are not compared).
    public func isSameDevice(as other: ChardevSource) -> Bool {
        switch (self, other) {
        case let (.file(p1, a1), .file(p2, a2)): return p1 == p2 && a1 == a2
        case let (.pty(p1), .pty(p2)), let (.dev(p1), .dev(p2)), let (.pipe(p1), .pipe(p2)): return p1 == p2
        case let (.nmdm(m1, s1), .nmdm(m2, s2)): return m1 == m2 && s1 == s2
        case let (.udp(u1), .udp(u2)): return u1 == u2
        case let (.tcp(t1), .tcp(t2)):
            return t1.mode == t2.mode && t1.protocol == t2.protocol && t1.host == t2.host
                && t1.service == t2.service && t1.reconnect == t2.reconnect
        case let (.unix(u1), .unix(u2)): return u1 == u2
        case let (.spiceport(c1), .spiceport(c2)), let (.dbus(c1), .dbus(c2)): return c1 == c2
        case let (.qemuVdagent(c1, m1), .qemuVdagent(c2, m2)): return c1 == c2 && m1 == m2
        case (.null, .null), (.vc, .vc), (.stdio, .stdio), (.spicevmc, .spicevmc): return true
        default: return false
        }
    }
}

/// `<log file append/>`: QEMU copies everything the chardev carries into this file.
public struct ChardevLog: Sendable, Equatable {
    public var file: String
    public var append: Bool?
    public init(file: String, append: Bool? = nil) {
        self.file = file
        self.append = append
    }
}

/// `<seclabel>` inside a chardev `<source>`.
public struct SourceSecurityLabel: Sendable, Equatable {
    public var model: String?
    public var relabel: Bool
    public var labelskip: Bool
    public var label: String?
    public init(model: String?, relabel: Bool = true, labelskip: Bool = false, label: String? = nil) {
        self.model = model
        self.relabel = relabel
        self.labelskip = labelskip
        self.label = label
    }
}
