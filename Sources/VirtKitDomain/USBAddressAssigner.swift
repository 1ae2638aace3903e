/// Gives USB devices without an address the next port on USB bus 0, as libvirt does.
enum USBAddressAssigner {
    static func assign(_ domain: inout Domain) {
        var used = Set<String>()
        for serial in domain.devices.serials {
            if case .usb(_, let port?) = serial.address { used.insert(port) }
        }
        var next = 1
        for i in domain.devices.serials.indices {
            guard case .serial(.usbSerial, _, _) = domain.devices.serials[i].target,
                  domain.devices.serials[i].address == nil else { continue }
            while used.contains(String(next)) { next += 1 }
            used.insert(String(next))
            domain.devices.serials[i].address = .usb(bus: 0, port: String(next))
        }
    }
}
