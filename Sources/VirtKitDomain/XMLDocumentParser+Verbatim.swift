import CLibXML2

/// Elements kept whole (``XMLElement/verbatim``): what libvirt keeps of `<metadata>`.
extension XMLDocumentParser {
    /// Fill in ``XMLElement/verbatim`` for the children of `root` that are in no namespace and
    /// named in `names`, from a second parse of `bytes` (already parsed once without error).
    ///
    /// The second parse drops the blank text libxml2 judges ignorable (`XML_PARSE_NOBLANKS`): libvirt
    /// parses with `xmlKeepBlanksDefault(0)`, so indentation between elements is not kept (and is
    /// written anew) while blanks inside an element with no other content, or next to text, are.
    /// libxml2 decides that as it reads (a blank run before a character reference is kept, for
    /// one), so it is asked rather than imitated; the rest of the tree keeps every blank, as the
    /// streaming builder does.
    static func keepVerbatim(_ names: [String], in root: inout XMLElement, _ bytes: [UInt8]) {
        let count = Int32(clamping: bytes.count)
        let doc: xmlDocPtr? = bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return nil }
            return base.withMemoryRebound(to: CChar.self, capacity: buffer.count) { chars in
                xmlReadMemory(chars, count, nil, nil, options | Int32(XML_PARSE_NOBLANKS.rawValue))
            }
        }
        guard let doc else { return }
        defer { xmlFreeDoc(doc) }
        guard let top = xmlDocGetRootElement(doc) else { return }
        // Both parses give the same elements in the same order; only blank text differs.
        var index = 0
        var node = top.pointee.children
        while let n = node, index < root.children.count {
            node = n.pointee.next
            guard n.pointee.type == XML_ELEMENT_NODE else { continue }
            defer { index += 1 }
            let child = root.children[index]
            guard child.namespaceURI == nil, n.pointee.ns == nil, names.contains(child.name) else { continue }
            root.children[index].verbatim = .element(verbatimCopy(of: n))
        }
    }

    /// A copy of `node` that stands alone, as libxml2's `xmlCopyNode(node, 1)` makes it (and
    /// libvirt keeps `<metadata>`): every namespace the copy uses but does not declare, because it
    /// was declared on an ancestor, is declared on the copy's top element, after the declarations
    /// written there, in the order the copy meets them (each element's own namespace, then its
    /// attributes', then its children's). `xml:` needs no declaration.
    static func verbatimCopy(of node: xmlNodePtr) -> XMLNode.Element {
        var copier = VerbatimCopier()
        return copier.copy(node)
    }
}

private struct VerbatimCopier {
    /// The declarations in scope in the copy, one list per open element, outermost first; the
    /// first list, the top element's, also takes the declarations moved there.
    private var scopes: [[XMLNode.NamespaceDeclaration]] = []

    private func declares(_ prefix: String?) -> Bool {
        if prefix == "xml" { return true }
        for scope in scopes.reversed() where scope.contains(where: { $0.prefix == prefix }) { return true }
        return false
    }

    /// Declare `ns` on the top element unless it is in scope (libxml2 looks it up by prefix).
    private mutating func use(_ ns: xmlNsPtr?) -> String? {
        guard let ns else { return nil }
        let prefix = ns.pointee.prefix.map { String(cString: $0) }
        if !declares(prefix) {
            scopes[0].append(XMLNode.NamespaceDeclaration(prefix: prefix, uri: string(ns.pointee.href)))
        }
        return prefix
    }

    private func string(_ text: UnsafePointer<xmlChar>?) -> String {
        text.map { String(cString: $0) } ?? ""
    }

    mutating func copy(_ node: xmlNodePtr) -> XMLNode.Element {
        var element = XMLNode.Element(localName: string(node.pointee.name))
        var declarations: [XMLNode.NamespaceDeclaration] = []
        var ns = node.pointee.nsDef
        while let n = ns {
            declarations.append(XMLNode.NamespaceDeclaration(prefix: n.pointee.prefix.map { String(cString: $0) },
                                                             uri: string(n.pointee.href)))
            ns = n.pointee.next
        }
        scopes.append(declarations)
        element.prefix = use(node.pointee.ns)
        element.namespaceURI = node.pointee.ns.map { string($0.pointee.href) }
        var attr = node.pointee.properties
        while let a = attr {
            let prefix = use(a.pointee.ns)
            element.attributes.append(XMLNode.Attribute(prefix: prefix, localName: string(a.pointee.name),
                                                        value: attributeValue(a)))
            attr = a.pointee.next
        }
        var child = node.pointee.children
        while let c = child {
            switch c.pointee.type {
            case XML_ELEMENT_NODE:
                element.children.append(.element(copy(c)))
            case XML_TEXT_NODE:
                element.children.append(.text(string(c.pointee.content)))
            case XML_CDATA_SECTION_NODE:
                element.children.append(.cdata(string(c.pointee.content)))
            case XML_COMMENT_NODE:
                element.children.append(.comment(string(c.pointee.content)))
            case XML_PI_NODE:
                element.children.append(.processingInstruction(target: string(c.pointee.name),
                                                               data: c.pointee.content.map { String(cString: $0) }))
            default:
                break  // entity references: only with a DOCTYPE declaring entities
            }
            child = c.pointee.next
        }
        element.namespaceDeclarations = scopes.removeLast()
        return element
    }
}
