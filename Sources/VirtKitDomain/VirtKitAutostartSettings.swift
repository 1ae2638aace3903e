/// How a domain marked for autostart starts with the host, kept in its `<metadata>`:
///
/// ```xml
/// <metadata>
///   <virtkit:autostart xmlns:virtkit="urn:virtkit:autostart:1" order="2" delay="5" after="db"/>
/// </metadata>
/// ```
///
/// `order`: lower starts first (default 0; equal orders start by name); `delay`: seconds to wait
/// before this guest's start; `after`: start only once that domain runs, and stop before it.
/// libvirt keeps one element per namespace, so this has a namespace of its own beside the
/// monitor's.
public struct VirtKitAutostartSettings: Sendable, Equatable {
    public static let namespaceURI = "urn:virtkit:autostart:1"
    public static let prefix = "virtkit"
    public static let orders = 0...1_000_000
    public static let delays = 0...3600

    public var order: Int
    public var delaySeconds: Int
    public var after: String?

    public init(order: Int = 0, delaySeconds: Int = 0, after: String? = nil) {
        self.order = order
        self.delaySeconds = delaySeconds
        self.after = after
    }

    /// Read `<autostart>` in its namespace; refused, naming the attribute and value, when an
    /// attribute is unknown or out of range.
    public init(_ element: XMLNode.Element) throws(DomainError) {
        self.init()
        let name = element.qualifiedName
        guard element.localName == "autostart" else {
            throw DomainError(.configUnsupported,
                              "element <\(name)> in namespace '\(Self.namespaceURI)' is not supported by VirtKit (autostart)")
        }
        for attribute in element.attributes where attribute.prefix == nil {
            switch attribute.localName {
            case "order": order = try Self.number(attribute.value, in: Self.orders, "order", name)
            case "delay": delaySeconds = try Self.number(attribute.value, in: Self.delays, "delay", name)
            case "after":
                try DomainValidator.validateName(attribute.value)
                after = attribute.value
            default:
                throw DomainError(.configUnsupported,
                                  "attribute '\(attribute.localName)' in element '\(name)' is not supported by VirtKit (order, delay, after)")
            }
        }
        if let child = element.childElements.first {
            throw DomainError(.configUnsupported, "element <\(child.qualifiedName)> in <\(name)> is not supported by VirtKit")
        }
    }

    static func number(_ text: String, in range: ClosedRange<Int>, _ attribute: String, _ element: String) throws(DomainError) -> Int {
        guard let value = parseUnsigned(text, radix: 10), range.contains(Int(value)) else {
            throw DomainError(.xmlError, "Invalid value for attribute '\(attribute)' in element '\(element)': "
                              + "'\(text)'. Expected a number in \(range.lowerBound)..\(range.upperBound)")
        }
        return Int(value)
    }
}

extension Domain {
    /// The domain's autostart settings from `<metadata>`; the defaults when it has none.
    public var virtkitAutostart: VirtKitAutostartSettings {
        get throws(DomainError) {
            guard let element = metadata?.element(inNamespace: VirtKitAutostartSettings.namespaceURI) else {
                return VirtKitAutostartSettings()
            }
            let settings = try VirtKitAutostartSettings(element)
            if settings.after == name {
                throw DomainError(.configUnsupported, "domain '\(name)' cannot start after itself")
            }
            return settings
        }
    }
}
