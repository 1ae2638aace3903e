/// One element of a parsed XML document: its name, its attributes in document order, its child
/// elements and the text directly inside it.
///
/// This is the neutral tree the domain parser reads; it knows nothing about libvirt.
public struct XMLElement: Sendable {
    public var name: String
    public var attributes: [(name: String, value: String)]
    public var children: [XMLElement]
    public var text: String
    /// Line of the element's start tag in the source document (1-based, 0 when unknown).
    public var line: Int

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
