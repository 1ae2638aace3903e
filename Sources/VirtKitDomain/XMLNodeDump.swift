/// Writes an ``XMLNode/Element`` as libxml2 2.9's `xmlNodeDump(buffer, doc, node, level, 1)`
/// does with `xmlIndentTreeOutput` set: how libvirt writes `<metadata>`, which it keeps as a
/// libxml2 node rather than in its own structures.
///
/// The rules, libxml2's rather than libvirt's: double quotes; namespace declarations before the
/// attributes; `<name/>` for an element without content; each child on its own line, two spaces a
/// level (at most 60), unless the element holds text or CDATA, in which case its whole content is
/// written as it is, with no line breaks added. Text escapes `<`, `>`, `&` and carriage return;
/// attribute values also escape `"`, tab and line feed and write every non-ASCII character as a
/// hexadecimal reference (the copied node has no document, so no output encoding); a namespace
/// URI is written unescaped, between single quotes when it holds a `"` and no `'`.
enum XMLNodeDump {
    /// libxml2's `MAX_INDENT` (60) over the two-space indent string.
    static let maximumIndentLevel = 30

    /// `element` at `level`; the caller has indented its first line.
    static func write(_ element: XMLNode.Element, level: Int, into out: inout UTF8Buffer) {
        writeElement(element, level: level, formatted: true, into: &out)
    }

    private static func indent(_ level: Int, into out: inout UTF8Buffer) {
        for _ in 0..<(2 * min(level, maximumIndentLevel)) { out.append(0x20) }
    }

    private static func writeElement(_ element: XMLNode.Element, level: Int, formatted: Bool,
                                     into out: inout UTF8Buffer) {
        out.append(0x3C)
        out.append(element.qualifiedName)
        for declaration in element.namespaceDeclarations where declaration.prefix != "xml" {
            out.append(" xmlns")
            if let prefix = declaration.prefix {
                out.append(0x3A)
                out.append(prefix)
            }
            out.append(0x3D)
            appendQuoted(declaration.uri, into: &out)
        }
        for attribute in element.attributes {
            out.append(0x20)
            out.append(attribute.qualifiedName)
            out.append(0x3D)
            out.append(0x22)
            appendAttributeValue(attribute.value, into: &out)
            out.append(0x22)
        }
        if element.children.isEmpty {
            out.append(0x2F)
            out.append(0x3E)
            return
        }
        let childrenFormatted = formatted && !element.children.contains {
            switch $0 {
            case .text, .cdata: return true
            default: return false
            }
        }
        out.append(0x3E)
        if childrenFormatted { out.append(0x0A) }
        for child in element.children {
            writeNode(child, level: level + 1, formatted: childrenFormatted, into: &out)
            if childrenFormatted { out.append(0x0A) }
        }
        if childrenFormatted { indent(level, into: &out) }
        out.append(0x3C)
        out.append(0x2F)
        out.append(element.qualifiedName)
        out.append(0x3E)
    }

    private static func writeNode(_ node: XMLNode, level: Int, formatted: Bool, into out: inout UTF8Buffer) {
        switch node {
        case .element(let element):
            if formatted { indent(level, into: &out) }
            writeElement(element, level: level, formatted: formatted, into: &out)
        case .text(let text):
            appendText(text, into: &out)
        case .cdata(let text):
            // A parsed CDATA section holds no "]]>" and an empty one is not kept, so one section.
            out.append("<![CDATA[")
            out.append(text)
            out.append("]]>")
        case .comment(let text):
            if formatted { indent(level, into: &out) }
            out.append("<!--")
            out.append(text)
            out.append("-->")
        case .processingInstruction(let target, let data):
            if formatted { indent(level, into: &out) }
            out.append(0x3C)
            out.append(0x3F)
            out.append(target)
            if let data {
                out.append(0x20)
                out.append(data)
            }
            out.append(0x3F)
            out.append(0x3E)
        }
    }

    /// `xmlEscapeContent`.
    private static func appendText(_ text: String, into out: inout UTF8Buffer) {
        for byte in text.utf8 {
            switch byte {
            case 0x3C: out.append("&lt;")
            case 0x3E: out.append("&gt;")
            case 0x26: out.append("&amp;")
            case 0x0D: out.append("&#13;")
            default: out.append(byte)
            }
        }
    }

    /// `xmlBufAttrSerializeTxtContent` for a node without a document.
    private static func appendAttributeValue(_ value: String, into out: inout UTF8Buffer) {
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\n": out.append("&#10;")
            case "\r": out.append("&#13;")
            case "\t": out.append("&#9;")
            case "\"": out.append("&quot;")
            case "<": out.append("&lt;")
            case ">": out.append("&gt;")
            case "&": out.append("&amp;")
            default:
                if scalar.isASCII {
                    out.append(UInt8(scalar.value))
                } else {
                    out.append("&#x")
                    out.append(String(scalar.value, radix: 16, uppercase: true))
                    out.append(0x3B)
                }
            }
        }
    }

    /// `xmlBufWriteQuotedString`: double quotes, single ones around a value with a `"` and no
    /// `'`, and `&quot;` only when the value holds both.
    private static func appendQuoted(_ value: String, into out: inout UTF8Buffer) {
        let utf8 = value.utf8
        guard utf8.contains(0x22) else {
            out.append(0x22)
            out.append(value)
            out.append(0x22)
            return
        }
        guard utf8.contains(0x27) else {
            out.append(0x27)
            out.append(value)
            out.append(0x27)
            return
        }
        out.append(0x22)
        for byte in utf8 {
            if byte == 0x22 { out.append("&quot;") } else { out.append(byte) }
        }
        out.append(0x22)
    }
}
