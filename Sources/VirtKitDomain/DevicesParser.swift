import VirtKitText

/// Reads `<devices>`: the character devices in full, the rest of what a small guest needs.
enum DevicesParser {
    static func parse(_ element: XMLElement, into devices: inout Devices) throws(DomainError) {
        for child in element.children {
            switch child.name {
            case "emulator": devices.emulator = child.text.trimmingBlanks
            case "serial": devices.serials.append(try ChardevParser.parse(child))
            case "parallel":
                var chardev = try ChardevParser.parse(child)
                // libvirt numbers a parallel port without one at parse time: max + 1.
                if chardev.target.port == -1 {
                    let maxPort = devices.parallels.compactMap { $0.target.port }.max() ?? -1
                    chardev.target = chardev.target.withPort(maxPort + 1)
                }
                devices.parallels.append(chardev)
            case "console":
                var chardev = try ChardevParser.parse(child)
                // A console's port is its position, whatever the XML says.
                chardev.target = chardev.target.withPort(devices.consoles.count)
                devices.consoles.append(chardev)
            case "channel": devices.channels.append(try ChardevParser.parse(child))
            case "disk": devices.disks.append(try parseDisk(child))
            case "controller": devices.controllers.append(try parseController(child))
            case "interface": devices.interfaces.append(try parseInterface(child))
            case "input":
                guard let type = child.attribute("type") else { throw .missingAttribute("type", "input") }
                devices.inputs.append(Input(type: type, bus: child.attribute("bus") ?? "ps2"))
            case "graphics":
                guard let typeName = child.attribute("type") else { throw .missingAttribute("type", "graphics") }
                guard let kind = Graphics.Kind(rawValue: typeName) else {
                    throw DomainError(.configUnsupported, "graphics type '\(typeName)' is not supported by VirtKit")
                }
                var graphics = Graphics(type: kind)
                if let port = child.attribute("port") {
                    guard let value = Int(port) else { throw DomainError(.xmlError, "cannot parse \(typeName) port \(port)") }
                    graphics.port = value
                }
                graphics.autoport = try child.yesNo("autoport")
                graphics.listen = child.attribute("listen") ?? child.child("listen")?.attribute("address")
                devices.graphics.append(graphics)
            case "audio":
                guard let id = child.attribute("id").flatMap({ Int($0) }) else { throw .missingAttribute("id", "audio") }
                devices.audios.append(Audio(id: id, type: child.attribute("type") ?? "none"))
            case "video":
                let model = child.child("model")
                var video = Video(model: model?.attribute("type") ?? "cirrus",
                                  vram: model?.attribute("vram").flatMap { Int($0) },
                                  heads: model?.attribute("heads").flatMap { Int($0) },
                                  primary: try model?.yesNo("primary") ?? false)
                if let address = child.child("address") { video.address = try AddressParser.parse(address) }
                devices.videos.append(video)
            case "memballoon":
                guard let model = child.attribute("model") else { throw .missingAttribute("model", "memballoon") }
                var balloon = Memballoon(model: model)
                if let address = child.child("address") { balloon.address = try AddressParser.parse(address) }
                devices.memballoon = balloon
            default:
                throw DomainParser.unsupported(child, in: "devices")
            }
        }
    }

    private static func parseDisk(_ element: XMLElement) throws(DomainError) -> Disk {
        guard element.attribute("type") ?? "file" == "file" else {
            throw DomainError(.configUnsupported, "disk type '\(element.attribute("type") ?? "")' is not supported by VirtKit (file)")
        }
        var disk = Disk()
        disk.device = element.attribute("device") ?? "disk"
        if let driver = element.child("driver") {
            disk.driverName = driver.attribute("name") ?? "qemu"
            disk.format = driver.attribute("type") ?? "raw"
            guard ["raw", "qcow2"].contains(disk.format) else {
                throw DomainError(.configUnsupported, "disk format '\(disk.format)' is not supported by VirtKit (raw, qcow2)")
            }
        }
        disk.sourceFile = element.child("source")?.attribute("file")
        guard let target = element.child("target") else {
            throw DomainError(.xmlError, "missing target information for device \(disk.sourceFile ?? "")")
        }
        guard let dev = target.attribute("dev") else { throw .missingAttribute("dev", "target") }
        disk.targetDev = dev
        disk.targetBus = target.attribute("bus") ?? (dev.hasPrefix("vd") ? "virtio" : dev.hasPrefix("sd") ? "sata" : "ide")
        guard ["virtio", "sata", "ide"].contains(disk.targetBus) else {
            throw DomainError(.configUnsupported, "disk bus '\(disk.targetBus)' is not supported by VirtKit")
        }
        disk.readonly = element.child("readonly") != nil
        if let address = element.child("address") { disk.address = try AddressParser.parse(address) }
        return disk
    }

    private static func parseController(_ element: XMLElement) throws(DomainError) -> Controller {
        guard let type = element.attribute("type") else { throw .missingAttribute("type", "controller") }
        guard ["virtio-serial", "usb", "pci", "sata", "ide"].contains(type) else {
            throw DomainError(.configUnsupported, "controller type '\(type)' is not supported by VirtKit")
        }
        // libvirt reads index and ports as C ints: larger values are refused, not wrapped. A
        // missing index is -1 until ``DomainDefaults`` gives it one, as libvirt's post-parse does.
        var index: Int32 = -1
        if let indexText = element.attribute("index") {
            guard let value = Int32(indexText), value >= 0 else {
                throw DomainError(.xmlError, "Cannot parse controller index \(indexText)")
            }
            index = value
        }
        var controller = Controller(type: type, index: Int(index), model: element.attribute("model"))
        if type == "usb", let model = controller.model, USBControllerModel(rawValue: model) == nil {
            throw DomainError(.configUnsupported, "Unknown model type '\(model)'")
        }
        if let startPort = element.child("master")?.attribute("startport") {
            guard let value = parseUnsigned(startPort, radix: 10), value <= Int32.max else {
                throw DomainError.invalidUnsigned("startport", "master", startPort)
            }
            controller.masterStartPort = Int(value)
        }
        if let ports = element.attribute("ports") {
            guard let value = Int32(ports).map(Int.init), value >= 0 else { throw DomainError.invalidUnsigned("ports", "controller", ports) }
            controller.ports = value
        }
        if let vectors = element.attribute("vectors") {
            guard let value = Int(vectors), value >= 0 else { throw DomainError.invalidUnsigned("vectors", "controller", vectors) }
            controller.vectors = value
        }
        controller.modelName = element.child("model")?.attribute("name")
        if let target = element.child("target") {
            if let chassis = target.attribute("chassis") {
                guard let value = parseUnsigned(chassis, radix: 10) else {
                    throw DomainError.invalidUnsigned("chassis", "target", chassis)
                }
                controller.chassis = Int(value)
            }
            if let port = target.attribute("port") {
                guard let value = parseUnsigned(port, radix: 16) else { throw DomainError.invalidUnsigned("port", "target", port) }
                controller.port = Int(value)
            }
        }
        if let address = element.child("address") { controller.address = try AddressParser.parse(address) }
        return controller
    }

    private static func parseInterface(_ element: XMLElement) throws(DomainError) -> NetworkInterface {
        let type = element.attribute("type") ?? ""
        guard ["user", "network", "bridge"].contains(type) else {
            throw DomainError(.configUnsupported,
                              "interface type '\(type)' is not supported by VirtKit (user, network, bridge)")
        }
        var nic = NetworkInterface()
        nic.type = type
        let source = element.child("source")
        switch type {
        case "network":
            guard let network = source?.attribute("network") else {
                throw DomainError(.xmlError, "No <source> 'network' attribute specified with <interface type='network'/>")
            }
            nic.sourceNetwork = network
        case "bridge":
            guard let bridge = source?.attribute("bridge") else {
                throw DomainError(.xmlError, "No <source> 'bridge' attribute specified with <interface type='bridge'/>")
            }
            nic.sourceBridge = try interfaceName(bridge)
        default:
            break
        }
        if let state = element.child("link")?.attribute("state") {
            guard state == "up" || state == "down" else { throw DomainError.invalidValue("state", "link", state) }
            nic.linkDown = state == "down"
        }
        if let dev = element.child("target")?.attribute("dev"), nic.usesTap {
            nic.targetDev = try interfaceName(dev)
        }
        if let mac = element.child("mac")?.attribute("address") {
            guard let bytes = MACAddress.parse(mac) else { throw DomainError(.xmlError, "unable to parse mac address '\(mac)'") }
            guard !MACAddress.isMulticast(bytes) else {
                throw DomainError(.xmlError, "expected unicast mac address, found multicast '\(mac)'")
            }
            nic.mac = MACAddress.format(bytes)
        }
        nic.model = element.child("model")?.attribute("type")
        if let address = element.child("address") { nic.address = try AddressParser.parse(address) }
        return nic
    }

    /// A host link name as the kernel takes it: 1-15 bytes of letters, digits, '-', '_', '.'.
    static func interfaceName(_ name: String) throws(DomainError) -> String {
        let fine = !name.isEmpty && name.utf8.count <= 15 && name != "." && name != ".."
            && name.utf8.allSatisfy { b in (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x5F || b == 0x2E }
        guard fine else { throw DomainError(.xmlError, "invalid network interface name '\(name)'") }
        return name
    }
}
