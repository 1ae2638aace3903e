import SystemPackage
import VirtKitModel
import VirtKitDomain
import VirtKitQEMU

/// One chardev virtkitd is QEMU's peer on, as the status file records it: where QEMU's side
/// is, where clients connect, and the log.
///
/// Which chardevs: every `pty` source (virtkitd opens the pty QEMU allocated before the guest
/// runs) and every bind-mode `unix` source. For a UNIX socket, QEMU listens on a private socket
/// in the guest's run directory (`q-ALIAS`) that virtkitd connects to, and the domain's path
/// (its own or the one libvirt generates) is virtkitd's listener, served to any number of
/// clients; so a daemon restart only reconnects, and data the guest sends before a client
/// connects waits in the scrollback instead of being lost.
public struct BrokeredChardev: Codable, Sendable, Equatable {
    /// The device alias the chardev is named after (`serial0`, `channel1`).
    public var alias: String
    /// `serial`, `parallel`, `console`, `channel` or `guestfwd`.
    public var role: String
    /// The names a client may ask for it by: the alias, `console0` for the serial a serial
    /// console shares, a virtio channel's target name.
    public var names: [String]
    /// A virtio channel's target name.
    public var targetName: String?
    /// The pty QEMU allocated (filled in once QEMU has started).
    public var pty: String?
    /// QEMU's private listening socket (a `unix` source).
    public var peerSocket: String?
    /// The domain's socket path, served by virtkitd (a `unix` source).
    public var path: String?
    /// The chardev's console log (none for the guest agent's channel).
    public var log: String?
    /// Bytes of scrollback replayed to a new client (consoles 1 MiB, channels none: a late
    /// client of a protocol must not read old answers).
    public var scrollback: Int
    /// The log's rotation (console.conf's max_size and max_backups at start).
    public var logMaxSize: Int?
    public var logMaxBackups: Int?

    /// The directory of per-mode client sockets: `console/ALIAS`, `.ro`, `.force`, `.shared`.
    public static func consoleDirectory(guestDirectory: String) -> String { guestDirectory + "/console" }

    /// The client socket for `mode` (`console/ALIAS`, `.ro`, `.force`, `.shared`).
    public static func consoleSocket(guestDirectory: String, alias: String, mode: ConsoleMode) -> String {
        consoleDirectory(guestDirectory: guestDirectory) + "/" + alias + mode.socketSuffix
    }

    /// The chardevs of `domain` that virtkitd will be the peer of, before QEMU starts.
    static func plan(domain: Domain, builder: QEMUCommandLineBuilder, guestDirectory: String,
                     logDirectory: FilePath, settings: ConsoleSettings = ConsoleSettings()) -> [BrokeredChardev] {
        var result: [BrokeredChardev] = []
        let logs = logDirectory.appending(domain.name)
        for entry in QEMUCommandLineBuilder.aliasedChardevs(domain.devices) {
            var record = BrokeredChardev(alias: entry.alias, role: entry.kind, names: [entry.alias],
                                         scrollback: settings.scrollbackSize)
            switch entry.chardev.source {
            case .pty:
                break
            case .unix(let unix) where unix.mode == .bind:
                guard let path = builder.unixPath(entry.chardev) else { continue }
                record.path = path
                record.peerSocket = guestDirectory + "/q-" + entry.alias
            default:
                continue
            }
            switch entry.chardev.target {
            case .virtioChannel(let name, _):
                record.targetName = name
                if let name { record.names.append(name) }
                record.scrollback = 0
            case .guestfwd:
                record.role = "guestfwd"
                record.scrollback = 0
            case .xenChannel, .noneChannel:
                record.scrollback = 0
            default:
                break
            }
            if record.targetName != "org.qemu.guest_agent.0" {
                record.log = logs.appending(entry.alias + ".log").string
                record.logMaxSize = settings.maxSize
                record.logMaxBackups = settings.maxBackups
            }
            result.append(record)
        }
        // A serial console shares its serial's chardev: `console0` names that serial.
        for (i, console) in domain.devices.consoles.enumerated() {
            guard case .console(.serial, let port) = console.target else { continue }
            let serial = domain.devices.serials.indices.contains(port) ? port : 0
            guard domain.devices.serials.indices.contains(serial) else { continue }
            let alias = domain.devices.serials[serial].alias ?? "serial\(serial)"
            if let index = result.firstIndex(where: { $0.alias == alias }) {
                result[index].names.append(console.alias ?? "console\(i)")
            }
        }
        return result
    }

    /// The chardev a console client gets when it names none: the first console's (libvirt's
    /// default), else the first serial's, else the first brokered one.
    static func defaultConsole(_ records: [BrokeredChardev]) -> BrokeredChardev? {
        records.first { $0.names.contains("console0") }
            ?? records.first { $0.role == "serial" }
            ?? records.first { $0.role == "console" || $0.role == "parallel" }
    }
}
