/// A piece of XML kept as written, namespaces and all: the content VirtKit carries without reading
/// it (libvirt's `<metadata>`), as libxml2's tree holds it.
///
/// ``XMLElement`` is the reading tree (local names, text joined up); this is the keeping tree:
/// every text, CDATA section, comment and processing instruction in document order, each element
/// with its prefix, its namespace and the declarations written on it.
public enum XMLNode: Sendable, Equatable {
    /// Boxed, so that an ``XMLElement`` pays one word for ``XMLElement/verbatim``.
    indirect case element(Element)
    /// Character data, entities and character references decoded.
    case text(String)
    case cdata(String)
    /// The text between `<!--` and `-->`.
    case comment(String)
    /// `<?target data?>`; `data` is nil for `<?target?>`.
    case processingInstruction(target: String, data: String?)

    /// An element: its qualified name, the namespace declarations written on it, its attributes
    /// and its content.
    public struct Element: Sendable, Equatable {
        /// The prefix of the name, nil for none (no namespace or the default one).
        public var prefix: String?
        public var localName: String
        /// The namespace the element is in, nil for none.
        public var namespaceURI: String?
        /// `xmlns:p='...'` and `xmlns='...'` on this element, in the order libxml2 keeps them.
        public var namespaceDeclarations: [NamespaceDeclaration]
        public var attributes: [Attribute]
        public var children: [XMLNode]

        public init(prefix: String? = nil, localName: String, namespaceURI: String? = nil,
                    namespaceDeclarations: [NamespaceDeclaration] = [], attributes: [Attribute] = [],
                    children: [XMLNode] = []) {
            self.prefix = prefix
            self.localName = localName
            self.namespaceURI = namespaceURI
            self.namespaceDeclarations = namespaceDeclarations
            self.attributes = attributes
            self.children = children
        }

        /// `prefix:localName`, or the local name alone.
        public var qualifiedName: String { prefix.map { $0 + ":" + localName } ?? localName }

        /// The value of the attribute with this qualified name, nil when absent.
        public func attribute(_ qualifiedName: String) -> String? {
            attributes.first { $0.qualifiedName == qualifiedName }?.value
        }

        /// The child elements, in document order.
        public var childElements: [Element] {
            children.compactMap { if case .element(let element) = $0 { element } else { nil } }
        }
    }

    /// `xmlns:prefix='uri'`, or `xmlns='uri'` when `prefix` is nil.
    public struct NamespaceDeclaration: Sendable, Equatable {
        public var prefix: String?
        /// As libxml2 keeps it: a `&amp;` in the source stays `&#38;` (its parser does not decode
        /// references in namespace declarations), other references are decoded.
        public var uri: String

        public init(prefix: String?, uri: String) {
            self.prefix = prefix
            self.uri = uri
        }
    }

    /// An attribute with its prefix (`xml:lang`, `app:key`) and decoded value.
    public struct Attribute: Sendable, Equatable {
        public var prefix: String?
        public var localName: String
        public var value: String

        public init(prefix: String? = nil, localName: String, value: String) {
            self.prefix = prefix
            self.localName = localName
            self.value = value
        }

        public var qualifiedName: String { prefix.map { $0 + ":" + localName } ?? localName }
    }
}
