/// An HMP command line split the way QEMU's monitor splits it, for policy decisions.
///
/// QEMU skips leading white space, takes the command name up to the next white space or `/`
/// (so `x/10x 0` is the command `x` with the format `/10x`) and looks it up by exact,
/// case-sensitive match against each command's names (`quit|q`): HMP has no abbreviations
/// beyond those aliases.
public struct HMPCommandLine: Sendable, Equatable {
    /// The command name as typed, e.g. "q" or "chardev-remove"; empty for a blank line.
    public var name: String
    /// What follows the name, leading white space removed (a `/format` stays attached).
    public var arguments: String

    /// Splits `line`.
    public init(_ line: String) {
        let scalars = line.unicodeScalars
        var index = scalars.startIndex
        while index < scalars.endIndex, Self.isSpace(scalars[index]) { index = scalars.index(after: index) }
        let nameStart = index
        while index < scalars.endIndex, !Self.isSpace(scalars[index]), scalars[index] != "/" {
            index = scalars.index(after: index)
        }
        name = String(scalars[nameStart..<index])
        var argumentStart = index
        while argumentStart < scalars.endIndex, Self.isSpace(scalars[argumentStart]) {
            argumentStart = scalars.index(after: argumentStart)
        }
        var argumentEnd = scalars.endIndex
        while argumentEnd > argumentStart, Self.isSpace(scalars[scalars.index(before: argumentEnd)]) {
            argumentEnd = scalars.index(before: argumentEnd)
        }
        arguments = String(scalars[argumentStart..<argumentEnd])
    }

    /// Whether this is the `quit` command (`quit` or its alias `q`).
    public var isQuit: Bool { name == "quit" || name == "q" }

    /// The first argument read as QEMU reads a string argument: a double-quoted string with
    /// backslash escapes, or the text up to white space. Nil when there is none.
    public var firstArgument: String? {
        var scalars = Substring(arguments).unicodeScalars[...]
        guard let first = scalars.first else { return nil }
        var result = String.UnicodeScalarView()
        if first == "\"" {
            scalars = scalars.dropFirst()
            while let scalar = scalars.popFirst() {
                if scalar == "\"" { return String(result) }
                if scalar == "\\", let escaped = scalars.popFirst() {
                    switch escaped {
                    case "n": result.append("\n")
                    case "r": result.append("\r")
                    default: result.append(escaped)
                    }
                } else {
                    result.append(scalar)
                }
            }
            return String(result)
        }
        for scalar in scalars {
            if Self.isSpace(scalar) { break }
            result.append(scalar)
        }
        return String(result)
    }

    private static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" || scalar == "\u{0B}" || scalar == "\u{0C}"
    }
}
