import CLibXML2

/// Parses XML text into an ``XMLElement`` tree with libxml2 (the parser libvirt uses).
///
/// libxml2 is used directly rather than through FoundationXML: `XMLDocument` leaks on Linux and
/// `XMLParser` pays for bridging every callback. Plain documents are built straight from libxml2's
/// SAX2 events (``XMLStreamingTreeBuilder``); the rest, and every error, go through a walk over
/// libxml2's own tree. Network access and entity expansion are off (`XML_PARSE_NONET`, no `NOENT`).
public enum XMLDocumentParser {
    /// Parse `text`; `sourceName` names the document in error messages.
    public static func parse(_ text: String, sourceName: String = "domain") throws(DomainError) -> XMLElement {
        let bytes = Array(text.utf8)
        if bytes.isEmpty {
            throw DomainError(.xmlError, "(\(sourceName)_definition): empty document")
        }
        if let tree = bytes.withUnsafeBufferPointer({ XMLStreamingTreeBuilder.parse($0, options: options) }) {
            return tree
        }
        return try parseThroughTree(bytes, sourceName: sourceName)
    }

    static let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue)

    /// Parse with libxml2's own tree and walk it: the general path, and the one that words errors.
    static func parseThroughTree(_ bytes: [UInt8], sourceName: String) throws(DomainError) -> XMLElement {
        let count = Int32(clamping: bytes.count)
        let doc: xmlDocPtr? = bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return nil }
            return base.withMemoryRebound(to: CChar.self, capacity: buffer.count) { chars in
                xmlReadMemory(chars, count, nil, nil, options)
            }
        }
        guard let doc else {
            var message = "malformed document"
            var line = 0
            if let err = xmlGetLastError() {
                line = Int(err.pointee.line)
                if let msg = err.pointee.message {
                    message = String(cString: msg).trimmingSuffixNewlines()
                }
            }
            throw DomainError(.xmlError, "(\(sourceName)_definition):\(line): \(message)")
        }
        defer { xmlFreeDoc(doc) }
        guard let root = xmlDocGetRootElement(doc) else {
            throw DomainError(.xmlError, "(\(sourceName)_definition): no root element")
        }
        return convert(root)
    }

    private static func convert(_ node: xmlNodePtr) -> XMLElement {
        let name = node.pointee.name.map { String(cString: $0) } ?? ""
        var element = XMLElement(name: name, line: Int(xmlGetLineNo(node)))
        var attr = node.pointee.properties
        while let a = attr {
            let attrName = a.pointee.name.map { String(cString: $0) } ?? ""
            var value = ""
            if let text = a.pointee.children, text.pointee.next == nil, text.pointee.type == XML_TEXT_NODE,
               let content = text.pointee.content {
                value = String(cString: content)  // the usual case: one text node, no allocation by libxml2
            } else if let v = xmlNodeListGetString(node.pointee.doc, a.pointee.children, 1) {
                value = String(cString: v)
                vk_xml_free(v)
            }
            element.attributes.append((attrName, value))
            attr = a.pointee.next
        }
        var child = node.pointee.children
        while let c = child {
            switch c.pointee.type {
            case XML_ELEMENT_NODE:
                element.children.append(convert(c))
            case XML_TEXT_NODE, XML_CDATA_SECTION_NODE:
                if let content = c.pointee.content {
                    element.text += String(cString: content)
                }
            default:
                break
            }
            child = c.pointee.next
        }
        return element
    }
}

extension String {
    func trimmingSuffixNewlines() -> String {
        var s = Substring(self)
        while let last = s.last, last == "\n" || last == "\r" || last == " " { s = s.dropLast() }
        return String(s)
    }
}
