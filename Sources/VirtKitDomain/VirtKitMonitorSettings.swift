/// VirtKit's own monitor settings, kept in the domain's `<metadata>` under VirtKit's namespace:
///
/// ```xml
/// <metadata>
///   <virtkit:monitor xmlns:virtkit="urn:virtkit:domain:1" port="30400" tcp="yes"/>
/// </metadata>
/// ```
///
/// libvirt keeps one element per namespace, so `monitor` is the one element of VirtKit's
/// namespace. The prefix is the writer's choice; the namespace URI is what identifies it.
public struct VirtKitMonitorSettings: Sendable, Equatable {
    /// VirtKit's namespace in `<metadata>`.
    public static let namespaceURI = "urn:virtkit:domain:1"
    /// The prefix VirtKit writes.
    public static let prefix = "virtkit"
    /// The ports `port` may name.
    public static let ports = 1...65435

    /// `port`: the monitor's port, nil when absent.
    public var port: Int?
    /// `tcp='yes|no'`, nil when absent.
    public var tcp: Bool?

    public init(port: Int? = nil, tcp: Bool? = nil) {
        self.port = port
        self.tcp = tcp
    }

    /// Read `<monitor>` in VirtKit's namespace. Refused, naming the element, attribute and value:
    /// another element, an attribute VirtKit does not know (attributes in other namespaces are
    /// left alone), a child element, a port that is not a number in ``ports``, a tcp that is
    /// neither yes nor no.
    public init(_ element: XMLNode.Element) throws(DomainError) {
        let name = element.qualifiedName
        guard element.localName == "monitor" else {
            throw DomainError(.configUnsupported,
                              "element <\(name)> in namespace '\(Self.namespaceURI)' is not supported by VirtKit (monitor)")
        }
        for attribute in element.attributes where attribute.prefix == nil {
            switch attribute.localName {
            case "port":
                guard let number = parseUnsigned(attribute.value, radix: 10), Self.ports.contains(Int(number)) else {
                    throw DomainError(.xmlError, "Invalid value for attribute 'port' in element '\(name)': "
                                      + "'\(attribute.value)'. Expected a port number in \(Self.ports.lowerBound)..\(Self.ports.upperBound)")
                }
                port = Int(number)
            case "tcp":
                switch attribute.value {
                case "yes": tcp = true
                case "no": tcp = false
                default:
                    throw DomainError(.xmlError, "Invalid value for attribute 'tcp' in element '\(name)': "
                                      + "'\(attribute.value)'. Expected yes or no")
                }
            default:
                throw DomainError(.configUnsupported,
                                  "attribute '\(attribute.localName)' in element '\(name)' is not supported by VirtKit (port, tcp)")
            }
        }
        if let child = element.childElements.first {
            throw DomainError(.configUnsupported, "element <\(child.qualifiedName)> in <\(name)> is not supported by VirtKit")
        }
    }

    /// `<virtkit:monitor xmlns:virtkit='urn:virtkit:domain:1' port='N' tcp='yes|no'/>`, absent
    /// attributes left out.
    public var element: XMLNode.Element {
        var attributes: [XMLNode.Attribute] = []
        if let port { attributes.append(XMLNode.Attribute(localName: "port", value: String(port))) }
        if let tcp { attributes.append(XMLNode.Attribute(localName: "tcp", value: tcp ? "yes" : "no")) }
        return XMLNode.Element(prefix: Self.prefix, localName: "monitor", namespaceURI: Self.namespaceURI,
                               namespaceDeclarations: [XMLNode.NamespaceDeclaration(prefix: Self.prefix, uri: Self.namespaceURI)],
                               attributes: attributes)
    }
}

extension Domain {
    /// VirtKit's monitor settings from `<metadata>`, nil when the domain has none; refused as
    /// ``VirtKitMonitorSettings/init(_:)`` says. ``DomainParser/define(xml:)`` reads them too, so
    /// a defined domain's settings are valid.
    public var virtkitMonitor: VirtKitMonitorSettings? {
        get throws(DomainError) {
            guard let element = metadata?.element(inNamespace: VirtKitMonitorSettings.namespaceURI) else { return nil }
            return try VirtKitMonitorSettings(element)
        }
    }

    /// Keep `settings` in `<metadata>` (replacing VirtKit's element; nil removes it), as
    /// `virsh metadata --set` would; refused as reading them back would be (a port outside
    /// ``VirtKitMonitorSettings/ports``).
    public mutating func setVirtKitMonitor(_ settings: VirtKitMonitorSettings?) throws(DomainError) {
        guard let settings else {
            metadata?.removeElement(inNamespace: VirtKitMonitorSettings.namespaceURI)
            return
        }
        let element = settings.element
        _ = try VirtKitMonitorSettings(element)
        var kept = metadata ?? Metadata()
        try kept.setElement(element)
        metadata = kept
    }
}
