import VirtKitDomain

/// What to run: QEMU's argv and the file descriptors to open before it, in order.
public struct QEMUInvocation: Sendable, Equatable {
    /// argv[0] is the emulator.
    public var arguments: [String]
    /// The descriptors the argv names (`fd=N`, `-add-fd ... fd=N`), to be opened by the caller
    /// and placed at exactly these numbers in the child. Empty for a pretend start.
    public var descriptors: [PlannedDescriptor]

    public init(arguments: [String], descriptors: [PlannedDescriptor]) {
        self.arguments = arguments
        self.descriptors = descriptors
    }
}

/// One descriptor the daemon must open and hand to QEMU.
public struct PlannedDescriptor: Sendable, Equatable {
    /// What to open.
    public enum Purpose: Sendable, Equatable {
        /// A listening UNIX stream socket bound at `path` (the old file removed first).
        case listeningUnixSocket(path: String)
        /// A file opened for writing, created if missing, appended to or truncated.
        case writableFile(path: String, append: Bool)
        /// The tap of the domain's interface number `interface`, made and plugged into its
        /// bridge by the runtime.
        case tap(interface: Int)
    }

    /// The descriptor number QEMU sees.
    public var number: Int32
    public var purpose: Purpose
    /// libvirt's label: `serial0-source`, `channel1-log`, `monitor-source`.
    public var label: String
    /// The `-add-fd` set, for files; nil for sockets passed as `fd=N`.
    public var fdset: Int?

    public init(number: Int32, purpose: Purpose, label: String, fdset: Int?) {
        self.number = number
        self.purpose = purpose
        self.label = label
        self.fdset = fdset
    }
}

/// How the command line is meant to be used.
public enum StartMode: Sendable, Equatable {
    /// `virsh domxml-to-native`: every path given as a path, nothing pre-opened.
    case pretend
    /// A real start: listening sockets and files pre-opened and passed by number from `firstFD`.
    case start(firstFD: Int32)
}

/// Where the per-domain files go and the settings libvirt takes from qemu.conf.
public struct QEMUPaths: Sendable, Equatable {
    /// The domain's private directory: monitor socket, master key.
    public var domainDirectory: String
    /// Where generated virtio channel sockets go.
    public var channelDirectory: String
    /// qemu.conf `chardev_tls_x509_cert_dir` (libvirt's default: /etc/pki/qemu).
    public var chardevTLSCertDirectory: String
    /// qemu.conf `chardev_tls_x509_verify` for server-mode TLS chardevs.
    public var chardevTLSVerifyPeer: Bool

    public init(domainDirectory: String, channelDirectory: String,
                chardevTLSCertDirectory: String = "/etc/pki/qemu", chardevTLSVerifyPeer: Bool = true) {
        self.domainDirectory = domainDirectory
        self.channelDirectory = channelDirectory
        self.chardevTLSCertDirectory = chardevTLSCertDirectory
        self.chardevTLSVerifyPeer = chardevTLSVerifyPeer
    }

    /// The paths a system libvirtd 9.0 uses for a domain with id `id` (-1 for a pretend start).
    public static func libvirtSystem(domainName: String, id: Int = -1) -> QEMUPaths {
        let short = "domain-\(id)-" + String(domainName.prefix(20))
        return QEMUPaths(domainDirectory: "/var/lib/libvirt/qemu/" + short,
                         channelDirectory: "/var/lib/libvirt/qemu/channel/target/" + short)
    }
}

/// Errors of the command-line builder, worded as libvirt words them.
public struct QEMUCommandLineError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) {
        self.message = message
    }
    public var description: String { message }
}
