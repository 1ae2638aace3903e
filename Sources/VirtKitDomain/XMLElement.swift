/// One element of a parsed XML document: its name, its attributes in document order, its child
/// elements and the text directly inside it.
///
/// This is the neutral tree the domain parser reads; it knows nothing about libvirt. Names are
/// written as in the document (`prefix:local` when prefixed), and ``namespaceURI`` says which
/// namespace the element is in.
public struct XMLElement: Sendable {
    /// The qualified name: `prefix:local` for a prefixed element, else the local name.
    public var name: String
    /// Attributes by qualified name; namespace declarations (`xmlns:p`) are not attributes.
    public var attributes: [(name: String, value: String)]
    public var children: [XMLElement]
    public var text: String
    /// Line of the element's start tag in the source document (1-based, 0 when unknown).
    public var line: Int
    /// The namespace the element is in, nil for none (always nil from the streaming builder,
    /// which takes only documents without namespaces).
    public var namespaceURI: String?
    /// The whole element kept as written, for the elements the parser was asked to keep
    /// (``XMLDocumentParser/parse(_:sourceName:keeping:)``); nil for the others.
    public var verbatim: XMLNode?

    public init(name: String, attributes: [(name: String, value: String)] = [], children: [XMLElement] = [],
                text: String = "", line: Int = 0) {
        self.name = name
        self.attributes = attributes
        self.children = children
        self.text = text
        self.line = line
    }

    /// The value of attribute `name`, or nil when it is absent.
    public func attribute(_ name: String) -> String? {
        for attr in attributes where attr.name == name { return attr.value }
        return nil
    }

    /// The first child element called `name`.
    public func child(_ name: String) -> XMLElement? {
        for child in children where child.name == name { return child }
        return nil
    }

    /// Every child element called `name`, in document order.
    public func children(named name: String) -> [XMLElement] {
        children.filter { $0.name == name }
    }
}
