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
        let rows = domains.map { [$0.id.map(String.init) ?? "-", $0.name, $0.state.rawValue] }
        let idWidth = max(2, rows.map { $0[0].count }.max() ?? 0)
        let nameWidth = max(4, rows.map { $0[1].count }.max() ?? 0)
        let stateWidth = max(5, rows.map { $0[2].count }.max() ?? 0)
        func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(0, n - s.count)) }
        var out = " " + pad("Id", idWidth) + "   " + pad("Name", nameWidth) + "   State\n"
        // virsh's rule (vsh-table): the rule is two longer than the widest line.
        out += String(repeating: "-", count: 1 + idWidth + 3 + nameWidth + 3 + stateWidth + 2) + "\n"
        for row in rows { out += " " + pad(row[0], idWidth) + "   " + pad(row[1], nameWidth) + "   " + row[2] + "\n" }
        return out + "\n"
    }
}
