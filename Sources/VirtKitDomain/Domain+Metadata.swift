extension Domain {
    /// `<metadata>`: other applications' data, one element per XML namespace, kept as written and
    /// written back as libvirt 9.0 does.
    ///
    /// libvirt keeps a copy of the domain's first `<metadata>` that is in no namespace (a
    /// namespaced one is not libvirt's and is ignored). Of its children it keeps only elements in
    /// a namespace, and of those the first of each namespace URI, whatever the prefix
    /// (`virXMLNodeSanitizeNamespaces`): text, comments, processing instructions, elements in no
    /// namespace and later elements of a namespace already seen are dropped. Inside the elements
    /// it keeps, everything is kept. A namespace the content uses from `<domain>` is declared on
    /// `<metadata>` itself (libvirt copies the element with `xmlCopyNode`), even when the element
    /// that used it was then dropped. `<metadata>` with nothing left is written `<metadata/>`.
    public struct Metadata: Sendable, Equatable {
        /// The declarations on `<metadata>`: those written there, then those moved there.
        public var namespaceDeclarations: [XMLNode.NamespaceDeclaration]
        /// Attributes written on `<metadata>` itself.
        public var attributes: [XMLNode.Attribute]
        /// One element per namespace, in document order.
        public private(set) var elements: [XMLNode.Element]

        /// Metadata holding `elements`, reduced as libvirt reduces them: elements in no namespace
        /// and later elements of a namespace already present are left out.
        public init(namespaceDeclarations: [XMLNode.NamespaceDeclaration] = [], attributes: [XMLNode.Attribute] = [],
                    elements: [XMLNode.Element] = []) {
            self.namespaceDeclarations = namespaceDeclarations
            self.attributes = attributes
            self.elements = []
            var seen = Set<String>()
            for element in elements {
                guard let uri = element.namespaceURI, seen.insert(uri).inserted else { continue }
                self.elements.append(element)
            }
        }

        /// What libvirt keeps of `<metadata>` as it was written (``XMLDocumentParser/verbatimCopy(of:)``).
        public init(keeping metadata: XMLNode.Element) {
            self.init(namespaceDeclarations: metadata.namespaceDeclarations, attributes: metadata.attributes,
                      elements: metadata.childElements)
        }

        /// The element in namespace `uri`, nil when there is none.
        public func element(inNamespace uri: String) -> XMLNode.Element? {
            elements.first { $0.namespaceURI == uri }
        }

        /// Put `element` in its namespace's place as `virsh metadata --set` does: the element of
        /// that namespace, if any, is removed and `element` goes last. Its prefix is declared on
        /// it unless it already is there or on `<metadata>`.
        public mutating func setElement(_ element: XMLNode.Element) throws(DomainError) {
            guard let uri = element.namespaceURI, !uri.isEmpty else {
                throw DomainError(.invalidArgument, "metadata element <\(element.qualifiedName)> must be in a namespace")
            }
            var element = element
            let declared = (element.namespaceDeclarations + namespaceDeclarations).contains {
                $0.prefix == element.prefix && $0.uri == uri
            }
            if !declared {
                element.namespaceDeclarations.insert(XMLNode.NamespaceDeclaration(prefix: element.prefix, uri: uri), at: 0)
            }
            removeElement(inNamespace: uri)
            elements.append(element)
        }

        /// Remove the element in namespace `uri`, if any.
        public mutating func removeElement(inNamespace uri: String) {
            elements.removeAll { $0.namespaceURI == uri }
        }

        /// `<metadata>` as libvirt writes it.
        public var element: XMLNode.Element {
            XMLNode.Element(localName: "metadata", namespaceDeclarations: namespaceDeclarations, attributes: attributes,
                            children: elements.map { .element($0) })
        }
    }
}
