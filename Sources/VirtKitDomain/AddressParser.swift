/// Reads `<address type=...>` for the address types VirtKit's devices use.
enum AddressParser {
    static func parse(_ element: XMLElement) throws(DomainError) -> DeviceAddress {
        guard let type = element.attribute("type") else {
            throw DomainError(.internalError, "No type specified for device address")
        }
        switch type {
        case "pci":
            // libvirt reads these as strtoul does with base 0 (0x hex, 0 octal, else decimal),
            // whole, and checks each against its PCI limit.
            func number(_ attr: String, atMost limit: UInt32, _ shown: String) throws(DomainError) -> UInt32 {
                guard let text = element.attribute(attr) else { return 0 }
                guard let value = parseUnsignedAnyBase(text) else { throw DomainError.invalidUnsigned(attr, "address", text) }
                guard value <= limit else {
                    throw DomainError(.xmlError, "Invalid PCI address \(attr)='0x\(String(value, radix: 16))', must be <= \(shown)")
                }
                return value
            }
            return .pci(domain: try number("domain", atMost: 0xFFFF, "0xFFFF"), bus: try number("bus", atMost: 0xFF, "0xFF"),
                        slot: try number("slot", atMost: 0x1F, "0x1F"), function: try number("function", atMost: 7, "7"),
                        multifunction: try element.onOff("multifunction"))
        case "virtio-serial":
            return .virtioSerial(controller: try element.unsigned("controller") ?? 0,
                                 bus: try element.unsigned("bus") ?? 0,
                                 port: try element.unsigned("port") ?? 0)
        case "isa":
            func hex(_ attr: String) throws(DomainError) -> UInt32? {
                guard let text = element.attribute(attr) else { return nil }
                guard let value = parseUnsigned(text, radix: 16) else {
                    throw DomainError.invalidUnsigned(attr, "address", text)
                }
                return value
            }
            return .isa(iobase: try hex("iobase"), irq: try hex("irq"))
        case "usb":
            return .usb(bus: try element.unsigned("bus") ?? 0, port: element.attribute("port"))
        default:
            throw DomainError(.configUnsupported, "unknown address type '\(type)'")
        }
    }
}
