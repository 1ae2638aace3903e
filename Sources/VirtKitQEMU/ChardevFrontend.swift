import VirtKitDomain

/// The guest-side device of a chardev: `-device` JSON (isa-serial, usb-serial, pci-serial,
/// isa-debugcon, isa-parallel, virtserialport, virtconsole) or the guestfwd `-netdev user`.
enum ChardevFrontend {
    static func arguments(for chardev: Chardev, alias: String, chardevID: String,
                          domain: Domain) throws(QEMUCommandLineError) -> [String] {
        var device = JSONObject()
        switch chardev.target {
        case .serial(let type, let model, let port):
            let driver: String
            switch model {
            case .isaSerial: driver = "isa-serial"
            case .usbSerial: driver = "usb-serial"
            case .pciSerial: driver = "pci-serial"
            case .isaDebugcon: driver = "isa-debugcon"
            default:
                throw QEMUCommandLineError("unsupported configuration: serial target type '\(type.rawValue)' "
                                               + "is not supported on this machine")
            }
            device.add("driver", driver)
            device.add("chardev", chardevID)
            device.add("id", alias)
            switch chardev.address {
            case .usb(let bus, let usbPort)?:
                device.add("bus", "usb.\(bus)")
                device.add("port", usbPort)
            case .pci?:
                DeviceArguments.addPCIAddress(chardev.address, domain: domain, to: &device)
            case .isa(let iobase, _)?:
                if let iobase, iobase > 0 { device.add("iobase", Int(iobase)) }
            default:
                if model == .isaSerial { device.add("index", port) }
            }
        case .parallel:
            device.add("driver", "isa-parallel")
            device.add("chardev", chardevID)
            device.add("id", alias)
        case .console(let type, _):
            guard type == .virtio else { return [] }
            device.add("driver", "virtconsole")
            DeviceArguments.addVirtioSerialAddress(chardev.address, to: &device)
            device.add("chardev", chardevID)
            device.add("id", alias)
        case .virtioChannel(let name, _):
            var targetName = name
            if case .spicevmc = chardev.source {
                if let name, name != "com.redhat.spice.0" {
                    throw QEMUCommandLineError("unsupported configuration: Unsupported spicevmc target name '\(name)'")
                }
                targetName = "com.redhat.spice.0"
            }
            device.add("driver", "virtserialport")
            DeviceArguments.addVirtioSerialAddress(chardev.address, to: &device)
            device.add("chardev", chardevID)
            device.add("id", alias)
            device.add("name", targetName)
        case .guestfwd(let address, let port):
            var netdev = JSONObject()
            netdev.add("type", "user")
            netdev.addRaw("guestfwd", "[" + guestForwardRule(address: address, port: port, chardevID: chardevID) + "]")
            netdev.add("id", alias)
            return ["-netdev", netdev.string]
        case .xenChannel, .noneChannel:
            throw QEMUCommandLineError("unsupported configuration: channel target type is not supported by QEMU")
        }
        return ["-device", device.string]
    }

    /// One entry of a `-netdev user` `guestfwd` array: `{"str":"tcp:ADDRESS:PORT-chardev:ID"}`.
    static func guestForwardRule(address: String, port: UInt32, chardevID: String) -> String {
        var forward = JSONObject()
        forward.add("str", "tcp:\(address):\(UInt16(truncatingIfNeeded: port))-chardev:\(chardevID)")
        return forward.string
    }
}
