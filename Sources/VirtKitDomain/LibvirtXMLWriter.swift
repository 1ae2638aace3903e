/// Writes XML the way libvirt's `virBuffer` does: two spaces a level, single-quoted attributes,
/// `virBufferEscapeString` escaping, `<name/>` for empty elements.
///
/// libvirt's format is its own (attribute order, quoting, which empty elements appear), so no
/// general XML library writes it; this small writer is the one place that knows the rules.
public struct LibvirtXMLWriter: Sendable {
    public private(set) var output: String = ""
    private var depth = 0

    public init() {}

    /// A writer whose buffer starts with room for `capacity` bytes.
    public init(capacity: Int) {
        output.reserveCapacity(capacity)
    }

    /// Escape a value as `virBufferEscapeString` does: the five XML specials become entities and
    /// control characters other than tab, newline and carriage return are dropped.
    public static func escape(_ value: String) -> String {
        var needs = false
        for b in value.utf8 where b == 0x3C || b == 0x3E || b == 0x26 || b == 0x27 || b == 0x22 || (b < 0x20 && b != 0x09 && b != 0x0A && b != 0x0D) {
            needs = true
            break
        }
        if !needs { return value }
        var out = ""
        out.reserveCapacity(value.utf8.count + 16)
        for ch in value.unicodeScalars {
            switch ch {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "'": out += "&apos;"
            case "\"": out += "&quot;"
            case "\t", "\n", "\r": out.unicodeScalars.append(ch)
            default:
                if ch.value < 0x20 { continue }
                out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    private mutating func indent() {
        for _ in 0..<depth { output += "  " }
    }

    private mutating func appendAttributes(_ attributes: [(String, String?)]) {
        for (name, value) in attributes {
            guard let value else { continue }
            output += " "
            output += name
            output += "='"
            output += Self.escape(value)
            output += "'"
        }
    }

    /// `<name a='1' b='2'/>`; nil values are skipped, as `virBufferEscapeString` skips NULL.
    public mutating func empty(_ name: String, _ attributes: [(String, String?)] = []) {
        indent()
        output += "<"
        output += name
        appendAttributes(attributes)
        output += "/>\n"
    }

    /// `<name>text</name>` with the text escaped.
    public mutating func text(_ name: String, _ attributes: [(String, String?)] = [], _ text: String) {
        indent()
        output += "<"
        output += name
        appendAttributes(attributes)
        output += ">"
        output += Self.escape(text)
        output += "</"
        output += name
        output += ">\n"
    }

    /// `<name attrs>`, children written by `body`, then `</name>`.
    public mutating func element(_ name: String, _ attributes: [(String, String?)] = [],
                                 _ body: (inout LibvirtXMLWriter) -> Void) {
        indent()
        output += "<"
        output += name
        appendAttributes(attributes)
        output += ">\n"
        depth += 1
        body(&self)
        depth -= 1
        indent()
        output += "</"
        output += name
        output += ">\n"
    }

    /// As libvirt's `virXMLFormatElement`: nothing when there are no attributes and no children,
    /// `<name attrs/>` without children, else the full element.
    public mutating func optionalElement(_ name: String, _ attributes: [(String, String?)],
                                         _ body: (inout LibvirtXMLWriter) -> Void) {
        var child = LibvirtXMLWriter()
        child.depth = depth + 1
        body(&child)
        let hasAttributes = attributes.contains { $0.1 != nil }
        if child.output.isEmpty {
            if hasAttributes { empty(name, attributes) }
            return
        }
        indent()
        output += "<"
        output += name
        appendAttributes(attributes)
        output += ">\n"
        output += child.output
        indent()
        output += "</"
        output += name
        output += ">\n"
    }
}
