import VirtKitQMP

/// Monitor commands that reach past the guest into the host: they read or write host files
/// (`pmemsave`, `drive_add file=…`, `screendump`), run host programs (`migrate "exec:…"`, a
/// netdev's `script=`) or serve the guest's disks to others (`nbd_server_start`). QEMU runs them
/// with its own user's rights, so a monitor client could use them to reach what it could not
/// reach itself. libvirt marks a domain tainted when such commands go through its monitor
/// passthrough; VirtKit refuses them unless `monitor.conf` says `allow_host_access = yes`.
///
/// The rules look at command names and argument keys only: conservative by design, so a
/// harmless form of a listed command (a `drive_add` with a `file` inside a node name, say) is
/// refused too; the message says how to allow it.
public enum HostAccessRule {
    /// What `command` would do on the host, nil when it stays inside the guest.
    public static func hostAccess(of command: MonitorCommand) -> String? {
        switch command {
        case .hmp(let line): hmpHostAccess(HMPCommandLine(line))
        case .qmp(let name, let arguments): qmpHostAccess(name: name, arguments: arguments)
        }
    }

    /// The refusal sent to the client for `command`, which does `access`.
    public static func refusal(command: String, access: String) -> String {
        "\(command) refused: it \(access) on the host, with QEMU's rights; "
            + "set allow_host_access = yes in monitor.conf to allow such commands"
    }

    // MARK: HMP

    /// HMP commands that always touch the host: their arguments are host paths or URIs.
    private static let hmpAlways: [String: String] = [
        "pmemsave": "writes guest memory to a file", "memsave": "writes guest memory to a file",
        "dump-guest-memory": "writes guest memory to a file", "screendump": "writes a file",
        "qemu-io": "reads and writes disk images", "drive_mirror": "writes a disk image file",
        "drive_backup": "writes a disk image file", "snapshot_blkdev": "creates a disk image file",
        "logfile": "writes a file", "trace-file": "writes a file", "wavcapture": "writes a file",
        "nbd_server_start": "serves the guest's disks on a socket", "nbd_server_add": "serves a guest disk",
    ]

    /// HMP commands that touch the host when one of these `key=` options is present.
    private static let hmpOptions: [String: (keys: [String], access: String)] = [
        "drive_add": (["file", "filename"], "opens a host file as a disk"),
        "chardev-add": (["path", "logfile"], "opens a host file or socket"),
        "netdev_add": (["script", "downscript"], "runs a host program"),
        "object_add": (["mem-path", "filename", "path"], "opens a host file"),
        "device_add": (["romfile"], "reads a host file"),
    ]

    private static func hmpHostAccess(_ line: HMPCommandLine) -> String? {
        if let access = hmpAlways[line.name] { return access }
        // `migrate [-d] URI`, the URI quoted or not: its scheme anywhere in the line counts.
        if line.name == "migrate" {
            if line.arguments.contains("exec:") { return "runs a host program" }
            if line.arguments.contains("file:") { return "writes a file" }
        }
        // `change vnc …` changes a display setting; `change DEVICE PATH` opens a host file as media.
        if line.name == "change", let device = line.firstArgument, device != "vnc" { return "opens a host file as media" }
        guard let (keys, access) = hmpOptions[line.name] else { return nil }
        let options = line.arguments.split(whereSeparator: { $0 == "," || $0 == " " })
        for option in options {
            let key = option.split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
            guard keys.contains(key) else { continue }
            // `script=no` is QEMU's way to say no script.
            if (key == "script" || key == "downscript") && option.hasSuffix("=no") { continue }
            return access
        }
        return nil
    }

    // MARK: QMP

    private static let qmpAlways: [String: String] = [
        "pmemsave": "writes guest memory to a file", "memsave": "writes guest memory to a file",
        "dump-guest-memory": "writes guest memory to a file", "screendump": "writes a file",
        "drive-backup": "writes a disk image file", "drive-mirror": "writes a disk image file",
        "blockdev-snapshot-sync": "creates a disk image file", "blockdev-change-medium": "opens a host file as media",
        "change": "opens a host file as media", "nbd-server-start": "serves the guest's disks on a socket",
        "nbd-server-add": "serves a guest disk", "block-export-add": "serves a guest disk",
    ]

    /// QMP commands whose arguments may name host paths or programs, under these keys (anywhere
    /// in the arguments, nested too).
    private static let qmpKeyed: [String: String] = [
        "blockdev-add": "opens a host file as a disk", "chardev-add": "opens a host file or socket",
        "chardev-change": "opens a host file or socket", "netdev_add": "runs a host program or opens a host file",
        "netdev-add": "runs a host program or opens a host file", "object-add": "opens a host file",
        "device_add": "reads a host file",
    ]
    private static let hostKeys: Set<String> = [
        "filename", "path", "mem-path", "script", "downscript", "romfile", "logfile", "in", "out", "device",
    ]

    private static func qmpHostAccess(name: String, arguments: QMP.Value?) -> String? {
        if let access = qmpAlways[name] { return access }
        if name == "migrate" {
            if let uri = arguments?["uri"]?.string, let access = migrationAccess(uri) { return access }
            // The newer form names its channels' addresses instead of a URI.
            if arguments?["channels"] != nil { return "sends the guest to a host address" }
            return nil
        }
        guard let access = qmpKeyed[name], let arguments, namesHostPath(arguments) else { return nil }
        return access
    }

    private static func namesHostPath(_ value: QMP.Value) -> Bool {
        switch value {
        case .object(let object):
            for (key, member) in object {
                if hostKeys.contains(key), member.string != "no" { return true }
                if namesHostPath(member) { return true }
            }
            return false
        case .array(let elements): return elements.contains(where: namesHostPath)
        default: return false
        }
    }

    private static func migrationAccess(_ uri: String) -> String? {
        if uri.hasPrefix("exec:") { return "runs a host program" }
        if uri.hasPrefix("file:") { return "writes a file" }
        return nil
    }
}
