import CLibXML2

/// Parses XML text into an ``XMLElement`` tree with libxml2 (the parser libvirt uses).
///
/// libxml2 is used directly rather than through FoundationXML: `XMLDocument` leaks on Linux and
/// `XMLParser` pays for bridging every callback. Plain documents are built straight from libxml2's
/// SAX2 events (``XMLStreamingTreeBuilder``); the rest, and every error, go through a walk over
/// libxml2's own tree. Network access and entity expansion are off (`XML_PARSE_NONET`, no `NOENT`).
public enum XMLDocumentParser {
    /// Parse `text`; `sourceName` names the document in error messages.
    ///
    /// Children of the root element that are in no namespace and whose name is in `keeping` are
    /// also kept whole in ``XMLElement/verbatim`` (see ``verbatimCopy(of:)``); a document with
    /// one goes through the tree walk.
    public static func parse(_ text: String, sourceName: String = "domain",
                             keeping: [String] = []) throws(DomainError) -> XMLElement {
        let bytes = Array(text.utf8)
        if bytes.isEmpty {
            throw DomainError(.xmlError, "(\(sourceName)_definition): empty document")
        }
        if let tree = bytes.withUnsafeBufferPointer({
            XMLStreamingTreeBuilder.parse($0, options: options, declining: keeping)
        }) {
            return tree
        }
        var root = try parseThroughTree(bytes, sourceName: sourceName)
        if !keeping.isEmpty, root.children.contains(where: { $0.namespaceURI == nil && keeping.contains($0.name) }) {
            keepVerbatim(keeping, in: &root, bytes)
        }
        return root
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
        var element = XMLElement(name: qualifiedName(node.pointee.name, node.pointee.ns), line: Int(xmlGetLineNo(node)))
        element.namespaceURI = node.pointee.ns?.pointee.href.map { String(cString: $0) }
        var attr = node.pointee.properties
        while let a = attr {
            element.attributes.append((qualifiedName(a.pointee.name, a.pointee.ns), attributeValue(a)))
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

/// `prefix:name`, or `name` when `ns` has no prefix.
func qualifiedName(_ name: UnsafePointer<xmlChar>?, _ ns: xmlNsPtr?) -> String {
    let local = name.map { String(cString: $0) } ?? ""
    guard let prefix = ns?.pointee.prefix else { return local }
    return String(cString: prefix) + ":" + local
}

/// The decoded value of an attribute of libxml2's tree.
func attributeValue(_ attribute: xmlAttrPtr) -> String {
    if let text = attribute.pointee.children, text.pointee.next == nil, text.pointee.type == XML_TEXT_NODE,
       let content = text.pointee.content {
        return String(cString: content)  // the usual case: one text node, no allocation by libxml2
    }
    guard let value = xmlNodeListGetString(attribute.pointee.doc, attribute.pointee.children, 1) else { return "" }
    defer { vk_xml_free(value) }
    return String(cString: value)
}

extension String {
    func trimmingSuffixNewlines() -> String {
        var s = Substring(self)
        while let last = s.last, last == "\n" || last == "\r" || last == " " { s = s.dropLast() }
        return String(s)
    }
}
