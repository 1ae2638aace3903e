/// What a verb prints on success, virsh's words, for both the front and the full command tree.
public enum VerbOutput {
    public static func defined(name: String, file: String) -> String { "Domain '\(name)' defined from \(file)\n\n" }
    public static func started(name: String) -> String { "Domain '\(name)' started\n\n" }
}
