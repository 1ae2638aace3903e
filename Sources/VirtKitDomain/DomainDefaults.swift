/// libvirt 9.0's post-parse for the qemu driver on x86_64: the defaults and implicit devices that
/// `virsh define` adds, in libvirt's order, so that writing back gives what `dumpxml --inactive`
/// gives.
enum DomainDefaults {
    /// The QEMU 7.2 machine types the aliases `pc` and `q35` resolve to.
    static let machineAliases = ["pc": "pc-i440fx-7.2", "q35": "pc-q35-7.2"]

    static func apply(to domain: inout Domain) throws(DomainError) {
        if domain.uuid.isEmpty { domain.uuid = UUIDText.random() }
        if let canonical = machineAliases[domain.os.machine] { domain.os.machine = canonical }
        if domain.currentMemoryKiB == 0 || domain.currentMemoryKiB > domain.memoryKiB {
            domain.currentMemoryKiB = domain.memoryKiB
        }
        if domain.os.bootDevices.isEmpty { domain.os.bootDevices = ["hd"] }
        if domain.cpu == nil {
            domain.cpu = Domain.CPU(mode: "custom", match: "exact", check: "none", model: "qemu64", fallback: "forbid")
        }
        if domain.devices.emulator == nil { domain.devices.emulator = "/usr/bin/qemu-system-x86_64" }
        // libvirt keeps generated tap names (vnetN) out of a definition: the kernel picks again.
        for i in domain.devices.interfaces.indices where domain.devices.interfaces[i].targetDev?.hasPrefix("vnet") == true {
            domain.devices.interfaces[i].targetDev = nil
        }
        for i in domain.devices.interfaces.indices where domain.devices.interfaces[i].mac == nil {
            domain.devices.interfaces[i].mac = MACAddress.random()  // as libvirt: QEMU's OUI, random rest
        }
        assignControllerIndexes(&domain.devices.controllers)
        addDefaultControllers(&domain)
        try ChardevDefaults.apply(to: &domain)
        addImplicitDevices(&domain)
        try VirtioSerialAddressAssigner.assign(&domain)
        USBAddressAssigner.assign(&domain)
        try PCIAddressAssigner.assign(&domain)
    }

    /// libvirt's `virDomainControllerInsertPreAlloced`: a new controller goes after the last one
    /// of its type with a lower index, before one with a higher index, else at the end.
    static func insertController(_ controller: Controller, into controllers: inout [Controller]) {
        var insertAt = -1
        for i in stride(from: controllers.count - 1, through: 0, by: -1) where controllers[i].type == controller.type {
            if controllers[i].index > controller.index {
                insertAt = i
            } else if controllers[i].index < controller.index && insertAt == -1 {
                insertAt = i + 1
            }
        }
        if insertAt == -1 {
            controllers.append(controller)
        } else {
            controllers.insert(controller, at: insertAt)
        }
    }

    static func addControllerIfMissing(_ controller: Controller, into controllers: inout [Controller]) {
        if controllers.contains(where: { $0.type == controller.type && $0.index == controller.index }) { return }
        insertController(controller, into: &controllers)
    }

    /// libvirt's post-parse for controllers without an index: the lowest index unused for
    /// the type, except that a member of an ICH9 USB set written right after another member
    /// joins that member's index unless its model is already there.
    static func assignControllerIndexes(_ controllers: inout [Controller]) {
        func isUSB2(_ c: Controller) -> Bool {
            c.type == "usb" && c.model.flatMap(USBControllerModel.init(rawValue:))?.companionFunction != nil
        }
        for i in controllers.indices where controllers[i].index == -1 {
            let c = controllers[i]
            if isUSB2(c), let previous = controllers[..<i].last(where: { $0.type == "usb" }), isUSB2(previous),
               !controllers.contains(where: { $0.type == "usb" && $0.index == previous.index && $0.model == c.model }) {
                controllers[i].index = previous.index
                continue
            }
            var index = 0
            while controllers.contains(where: { $0.type == c.type && $0.index == index }) { index += 1 }
            controllers[i].index = index
        }
    }

    private static func addDefaultControllers(_ domain: inout Domain) {
        let q35 = domain.isQ35
        addControllerIfMissing(Controller(type: "usb", index: 0, model: q35 ? "qemu-xhci" : "piix3-uhci"),
                               into: &domain.devices.controllers)
        for i in domain.devices.controllers.indices where domain.devices.controllers[i].type == "usb"
            && domain.devices.controllers[i].model == nil {
            domain.devices.controllers[i].model = q35 ? "qemu-xhci" : "piix3-uhci"
        }
        if q35 {
            addControllerIfMissing(Controller(type: "sata", index: 0), into: &domain.devices.controllers)
        }
        addControllerIfMissing(Controller(type: "pci", index: 0, model: q35 ? "pcie-root" : "pci-root"),
                               into: &domain.devices.controllers)
        if domain.devices.memballoon == nil { domain.devices.memballoon = Memballoon(model: "virtio") }
    }

    private static func addImplicitDevices(_ domain: inout Domain) {
        let spice = domain.hasSpiceGraphics
        var devices = domain.devices
        domain.devices = Devices()  // taken out, so that changing `devices` copies no array
        defer { domain.devices = devices }
        if !devices.inputs.contains(where: { $0.type == "mouse" && $0.bus == "ps2" }) {
            devices.inputs.insert(Input(type: "mouse", bus: "ps2"), at: 0)
        }
        if !devices.inputs.contains(where: { $0.type == "keyboard" && $0.bus == "ps2" }) {
            let at = devices.inputs.firstIndex { $0.type == "mouse" && $0.bus == "ps2" }.map { $0 + 1 } ?? 0
            devices.inputs.insert(Input(type: "keyboard", bus: "ps2"), at: at)
        }
        if devices.audios.isEmpty {
            devices.audios.append(Audio(id: 1, type: spice ? "spice" : "none"))
        }
        if !devices.graphics.isEmpty && devices.videos.isEmpty {
            devices.videos.append(Video(model: "cirrus", vram: 16384, heads: 1, primary: true))
        }
        for i in devices.videos.indices {
            if devices.videos[i].model == "cirrus" && devices.videos[i].vram == nil { devices.videos[i].vram = 16384 }
            if devices.videos[i].heads == nil { devices.videos[i].heads = 1 }
        }
        if let first = devices.videos.indices.first, !devices.videos.contains(where: \.primary) {
            devices.videos[first].primary = true
        }
        for i in devices.graphics.indices where devices.graphics[i].autoport == nil {
            devices.graphics[i].autoport = devices.graphics[i].port == nil || devices.graphics[i].port == -1
        }
    }
}
