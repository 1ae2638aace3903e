import CLibXML2

/// Builds the ``XMLElement`` tree straight from libxml2's SAX2 events, without libxml2 building
/// (and then freeing) its own tree: the same parser, less work.
///
/// It takes only the plain documents VirtKit reads, where the events map one to one onto what
/// ``XMLDocumentParser``'s walk over libxml2's tree reads: no DOCTYPE (so no entities of the
/// document's own and no defaulted attributes), no namespaces, no `&` left in an attribute value
/// (which libxml2's tree builder would decode a second time), lines below 65535 (libxml2 caps a
/// node's line there), no child of the root named in `declining` (elements the caller keeps
/// whole, which only the tree walk builds). For anything else, and for every malformed document,
/// ``parse(_:options:declining:)`` returns nil and the caller parses through the tree, which also
/// words the error.
///
/// The state lives behind a pointer the parser context carries (`_private`), allocated and freed
/// by ``parse(_:options:)`` around the parse: a class would pay a dynamic exclusivity check on
/// every property access, several per SAX event.
struct XMLStreamingTreeBuilder {
    /// Elements open, innermost last, each with its text so far.
    private var open: [XMLElement] = []
    private var text: [[UInt8]] = []
    private var root: XMLElement?
    /// Set when the document is outside what this builder takes.
    fileprivate var declined = false
    /// Names of root children that decline the document, NUL-terminated.
    fileprivate var declining: [[xmlChar]] = []

    private init() {}

    /// The tree of `bytes` (not empty), or nil when the tree walk must decide.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, options: Int32, declining: [String] = []) -> XMLElement? {
        guard let base = bytes.baseAddress, let ctxt = xmlNewParserCtxt() else { return nil }
        defer { xmlFreeParserCtxt(ctxt) }
        guard let sax = ctxt.pointee.sax else { return nil }
        installHandlers(sax)
        let builder = UnsafeMutablePointer<XMLStreamingTreeBuilder>.allocate(capacity: 1)
        builder.initialize(to: XMLStreamingTreeBuilder())
        builder.pointee.declining = declining.map { Array($0.utf8) + [0] }
        defer {
            builder.deinitialize(count: 1)
            builder.deallocate()
        }
        ctxt.pointee._private = UnsafeMutableRawPointer(builder)
        let doc = base.withMemoryRebound(to: CChar.self, capacity: bytes.count) { chars in
            xmlCtxtReadMemory(ctxt, chars, Int32(clamping: bytes.count), nil, nil, options)
        }
        ctxt.pointee._private = nil
        if let doc { xmlFreeDoc(doc) }  // none is built; freed should one ever be
        guard ctxt.pointee.wellFormed != 0, !builder.pointee.declined, builder.pointee.open.isEmpty else { return nil }
        return builder.pointee.root
    }

    /// libxml2's SAX2 handler with the tree-building callbacks replaced by this builder's and the
    /// DTD ones removed (a DOCTYPE declines at once).
    private static func installHandlers(_ sax: UnsafeMutablePointer<xmlSAXHandler>) {
        sax.pointee.startDocument = nil
        sax.pointee.endDocument = nil
        sax.pointee.startElement = nil
        sax.pointee.endElement = nil
        sax.pointee.comment = nil
        sax.pointee.processingInstruction = nil
        sax.pointee.entityDecl = nil
        sax.pointee.notationDecl = nil
        sax.pointee.attributeDecl = nil
        sax.pointee.elementDecl = nil
        sax.pointee.unparsedEntityDecl = nil
        sax.pointee.internalSubset = { ctx, _, _, _ in decline(ctx) }
        sax.pointee.externalSubset = { ctx, _, _, _ in decline(ctx) }
        sax.pointee.reference = { ctx, _ in decline(ctx) }
        sax.pointee.startElementNs = { ctx, localname, prefix, uri, namespaceCount, _, attributeCount, defaulted,
                                       attributes in
            guard let builder = builder(ctx), !builder.pointee.declined else { return }
            guard let localname, prefix == nil, uri == nil, namespaceCount == 0, defaulted == 0 else {
                return decline(ctx)
            }
            let line = ctx.flatMap { context(of: $0).pointee.input }.map { Int($0.pointee.line) } ?? 0
            guard line < 65535 else { return decline(ctx) }
            if builder.pointee.open.count == 1, builder.pointee.declines(localname) { return decline(ctx) }
            var element = XMLElement(name: String(cString: localname), line: line)
            if attributeCount > 0, let attributes {
                element.attributes.reserveCapacity(Int(attributeCount))
                for i in 0..<Int(attributeCount) {
                    // localname, prefix, URI, value, end of value
                    let entry = attributes + 5 * i
                    guard let name = entry[0], entry[1] == nil, let value = entry[3], let end = entry[4] else {
                        return decline(ctx)
                    }
                    let valueBytes = UnsafeBufferPointer(start: value, count: end - value)
                    if valueBytes.contains(0x26) { return decline(ctx) }
                    element.attributes.append((String(cString: name), String(decoding: valueBytes, as: UTF8.self)))
                }
            }
            builder.pointee.start(element)
        }
        sax.pointee.endElementNs = { ctx, _, _, _ in
            guard let builder = builder(ctx), !builder.pointee.declined else { return }
            builder.pointee.end()
        }
        let characters: charactersSAXFunc = { ctx, chars, count in
            guard let builder = builder(ctx), !builder.pointee.declined, let chars, count > 0 else { return }
            builder.pointee.characters(UnsafeBufferPointer(start: chars, count: Int(count)))
        }
        sax.pointee.characters = characters
        sax.pointee.ignorableWhitespace = characters
        sax.pointee.cdataBlock = characters
    }

    /// Whether a root child called `name` declines the document.
    fileprivate func declines(_ name: UnsafePointer<xmlChar>) -> Bool {
        for declined in declining where xmlStrEqual(name, declined) != 0 { return true }
        return false
    }

    fileprivate mutating func start(_ element: XMLElement) {
        open.append(element)
        if text.count < open.count {
            text.append([])
        } else {
            text[open.count - 1].removeAll(keepingCapacity: true)
        }
    }

    fileprivate mutating func characters(_ chars: UnsafeBufferPointer<UInt8>) {
        guard !open.isEmpty else { return }
        text[open.count - 1].append(contentsOf: chars)
    }

    fileprivate mutating func end() {
        guard var element = open.popLast() else { return }
        element.text = String(decoding: text[open.count], as: UTF8.self)
        if open.isEmpty {
            root = element
        } else {
            open[open.count - 1].children.append(element)
        }
    }
}

// The SAX callbacks are C function pointers, which capture nothing: they find the builder
// through the parser context's `_private` pointer with these.

private func context(of ctx: UnsafeMutableRawPointer) -> xmlParserCtxtPtr {
    ctx.assumingMemoryBound(to: xmlParserCtxt.self)
}

private func builder(_ ctx: UnsafeMutableRawPointer?) -> UnsafeMutablePointer<XMLStreamingTreeBuilder>? {
    guard let ctx, let state = context(of: ctx).pointee._private else { return nil }
    return state.assumingMemoryBound(to: XMLStreamingTreeBuilder.self)
}

/// Give up on this document: stop the parser, let the tree walk decide.
private func decline(_ ctx: UnsafeMutableRawPointer?) {
    guard let ctx else { return }
    builder(ctx)?.pointee.declined = true
    xmlStopParser(context(of: ctx))
}
