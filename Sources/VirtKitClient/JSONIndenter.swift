import VirtKitText

/// Re-indents compact JSON text (virsh's `--pretty`), two spaces a level, strings untouched.
public enum JSONIndenter {
    public static func indent(_ text: String) -> String {
        var out = ""
        var depth = 0
        var inString = false
        var escaped = false
        func newline() { out += "\n" + String(repeating: "  ", count: depth) }
        var previous: Character = " "
        for character in text.trimmingBlanks {
            if inString {
                out.append(character)
                if escaped { escaped = false } else if character == "\\" { escaped = true } else if character == "\"" { inString = false }
                continue
            }
            switch character {
            case "\"": inString = true; out.append(character)
            case "{", "[":
                out.append(character); depth += 1; newline()
            case "}", "]":
                depth -= 1
                if previous == "{" || previous == "[" {
                    // An empty object or array stays on one line: drop the break added after it opened.
                    while let last = out.last, last == " " || last == "\n" { out.removeLast() }
                } else {
                    newline()
                }
                out.append(character)
            case ",": out.append(character); newline()
            case ":": out += ": "
            case " ", "\n", "\t", "\r": continue
            default: out.append(character)
            }
            previous = character
        }
        return out + "\n"
    }
}
