import VirtKitAPI

/// What a verb prints on success, virsh's words, for both the front and the full command tree.
public enum VerbOutput {
    public static func defined(name: String, file: String) -> String { "Domain '\(name)' defined from \(file)\n\n" }
    public static func started(name: String) -> String { "Domain '\(name)' started\n\n" }
    /// virsh's `autostart` answer.
    public static func autostart(name: String, enabled: Bool) -> String {
        "Domain '\(name)' \(enabled ? "marked" : "unmarked") as autostarted\n\n"
    }

    /// `list`'s table, as virsh lays it out.
    public static func domainTable(_ domains: [DomainSummary]) -> String {
        table(["Id", "Name", "State"], domains.map { [$0.id.map(String.init) ?? "-", $0.name, $0.state.rawValue] })
    }

    /// `net-list`'s table.
    public static func networkTable(_ networks: [NetworkSummary]) -> String {
        table(["Name", "State", "Autostart", "Persistent"], networks.map {
            [$0.name, $0.active ? "active" : "inactive", $0.autostart ? "yes" : "no", $0.persistent ? "yes" : "no"]
        })
    }

    /// `net-info`'s lines.
    public static func networkInfo(_ network: NetworkSummary) -> String {
        var lines = [("Name:", network.name), ("UUID:", network.uuid), ("Active:", network.active ? "yes" : "no"),
                     ("Persistent:", network.persistent ? "yes" : "no"), ("Autostart:", network.autostart ? "yes" : "no")]
        if let bridge = network.bridge { lines.append(("Bridge:", bridge)) }
        return lines.map { pad($0.0, 15) + " " + $0.1 + "\n" }.joined()
    }

    /// `net-dhcp-leases`'s table; `time` writes an expiry time (virsh: local time,
    /// `%Y-%m-%d %H:%M:%S`).
    public static func leaseTable(_ leases: [NetworkLease], time: (Int64) -> String) -> String {
        table(["Expiry Time", "MAC address", "Protocol", "IP address", "Hostname", "Client ID or DUID"], leases.map {
            [time($0.expiryTime), $0.mac, $0.type, "\($0.address)/\($0.prefix)", $0.hostname ?? "-", $0.clientID ?? "-"]
        })
    }

    /// `domiflist`'s table: one row an interface (its tap, or `-` while shut off).
    public static func interfaceTable(_ rows: [(interface: String?, type: String, source: String?, model: String?, mac: String?)]) -> String {
        table(["Interface", "Type", "Source", "Model", "MAC"], rows.map {
            [$0.interface ?? "-", $0.type, $0.source ?? "-", $0.model ?? "-", $0.mac ?? "-"]
        })
    }

    /// `domifaddr`'s lines, as virsh prints them with printf (not a vsh table): each interface's
    /// addresses, the name and MAC on its first line only (`-` after, unless `full`).
    public static func interfaceAddresses(_ interfaces: [(name: String, mac: String, leases: [NetworkLease])], full: Bool) -> String {
        func pad(_ text: String, _ width: Int) -> String { Self.pad(text, width) }
        var out = " " + pad("Name", 10) + " " + pad("MAC address", 20) + " " + pad("Protocol", 8) + "     Address\n"
        out += String(repeating: "-", count: 79) + "\n"
        for interface in interfaces {
            for (index, lease) in interface.leases.enumerated() {
                let first = index == 0 || full
                let address = pad(lease.type, 12) + " " + lease.address + "/" + String(lease.prefix)
                out += " " + pad(first ? interface.name : "-", 10) + " " + pad(first ? interface.mac : "-", 17) + "    " + address + "\n"
            }
        }
        return out + "\n"
    }

    /// A table as virsh's vsh-table writes it: each cell after a space, padded to its column's
    /// width plus two (the last cell not padded), a rule as long as the widths plus three each,
    /// and an empty line after the rows.
    public static func table(_ header: [String], _ rows: [[String]]) -> String {
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.indices.map { " " + (($0 == cells.count - 1) ? cells[$0] : pad(cells[$0], widths[$0] + 2)) }.joined() + "\n"
        }
        return line(header) + String(repeating: "-", count: widths.reduce(0) { $0 + $1 + 3 }) + "\n"
            + rows.map(line).joined() + "\n"
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(0, width - text.count))
    }
}
