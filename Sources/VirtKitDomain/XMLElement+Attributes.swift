/// Typed attribute readers with libvirt's `virXMLProp*` error wording.
extension XMLElement {
    /// `virXMLPropTristateBool`: yes/no, nil when absent.
    func yesNo(_ attr: String) throws(DomainError) -> Bool? {
        guard let value = attribute(attr) else { return nil }
        switch value {
        case "yes": return true
        case "no": return false
        default: throw .invalidValue(attr, name, value)
        }
    }

    /// `virXMLPropTristateSwitch`: on/off, nil when absent.
    func onOff(_ attr: String) throws(DomainError) -> Bool? {
        guard let value = attribute(attr) else { return nil }
        switch value {
        case "on": return true
        case "off": return false
        default: throw .invalidValue(attr, name, value)
        }
    }

    /// `virXMLPropUInt` base 10, nil when absent.
    func unsigned(_ attr: String) throws(DomainError) -> UInt32? {
        guard let value = attribute(attr) else { return nil }
        guard let number = parseUnsigned(value, radix: 10) else { throw .invalidUnsigned(attr, name, value) }
        return number
    }

    /// `virXMLPropUInt` with VIR_XML_PROP_REQUIRED.
    func requiredUnsigned(_ attr: String) throws(DomainError) -> UInt32 {
        guard let number = try unsigned(attr) else { throw .missingAttribute(attr, name) }
        return number
    }

    /// An enumerated attribute (`virXMLPropEnum`), nil when absent.
    func enumerated<T: RawRepresentable>(_ attr: String, _ type: T.Type) throws(DomainError) -> T?
    where T.RawValue == String {
        guard let value = attribute(attr) else { return nil }
        guard let parsed = T(rawValue: value) else { throw .invalidValue(attr, name, value) }
        return parsed
    }
}

/// Parse an unsigned 32-bit number the way libvirt's `virStrToLong_ui` accepts it in attributes:
/// optional surrounding blanks are not allowed, a 0x prefix is allowed for radix 16.
/// `text` as C's strtoul reads it with base 0, all of it: `0x` hex, a leading `0` octal, else
/// decimal. nil for anything else (signs, spaces, trailing characters, overflow).
func parseUnsignedAnyBase(_ text: String) -> UInt32? {
    if text.hasPrefix("0x") || text.hasPrefix("0X") { return parseUnsigned(text, radix: 16) }
    if text.count > 1, text.hasPrefix("0") { return parseUnsigned(String(text.dropFirst()), radix: 8) }
    return parseUnsigned(text, radix: 10)
}

func parseUnsigned(_ text: String, radix: Int) -> UInt32? {
    var digits = Substring(text)
    if radix == 16, digits.hasPrefix("0x") || digits.hasPrefix("0X") { digits = digits.dropFirst(2) }
    guard !digits.isEmpty else { return nil }
    return UInt32(digits, radix: radix)
}
