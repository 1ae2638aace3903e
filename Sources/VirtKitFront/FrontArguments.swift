import VirtKitAPI
import VirtKitClient

/// The arguments of a verb the front serves, read as the full parser reads its common forms:
/// flags anywhere, `-c URI` / `--connect URI`, the rest positional. nil for anything else (a
/// flag it does not know, `--opt=value`, `--`, `--help`): the full command tree handles it.
struct FrontArguments {
    var connect: String?
    /// Arrays, not sets: a `Set<String>` costs this one-request process a conformance lookup
    /// that scans every conformance record in the binary.
    var flags: [String] = []
    var positional: [String] = []

    init?(_ words: ArraySlice<String>, flags known: [String]) {
        var words = words
        while let word = words.first {
            words = words.dropFirst()
            if known.contains(word) {
                if !flags.contains(word) { flags.append(word) }
            } else if word == "-c" || word == "--connect" {
                guard let uri = words.first else { return nil }
                connect = uri
                words = words.dropFirst()
            } else if word.hasPrefix("-") {
                return nil
            } else {
                positional.append(word)
            }
        }
    }

    /// The daemon chosen (``DaemonAddress/chosen(connect:)``); nil for a URI VirtKit does not
    /// know (the full parser says so).
    var address: DaemonAddress? { DaemonAddress.chosen(connect: connect) }
}
