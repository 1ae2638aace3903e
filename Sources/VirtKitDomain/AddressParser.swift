/// Reads `<address type=...>` for the address types VirtKit's devices use.
enum AddressParser {
    static func parse(_ element: XMLElement) throws(DomainError) -> DeviceAddress {
        guard let type = element.attribute("type") else {
            throw DomainError(.internalError, "No type specified for device address")
        }
        switch type {
        case "pci":
            func hex(_ attr: String) throws(DomainError) -> UInt32 {
                guard let text = element.attribute(attr) else { return 0 }
                guard let value = parseUnsigned(text, radix: 16) ?? parseUnsigned(text, radix: 10) else {
                    throw DomainError.invalidUnsigned(attr, "address", text)
                }
                return value
            }
            return .pci(domain: try hex("domain"), bus: try hex("bus"), slot: try hex("slot"),
                        function: try hex("function"), multifunction: try element.onOff("multifunction"))
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
