/// Writes a ``Domain`` as libvirt 9.0's `virsh dumpxml --inactive` does after `define`.
public enum DomainFormatter {
    public static func format(_ domain: Domain) -> String {
        var w = LibvirtXMLWriter(capacity: 4096)
        w.element("domain", [("type", domain.virtType.rawValue)]) { w in
            w.text("name", [], domain.name)
            w.text("uuid", [], domain.uuid)
            if let title = domain.title { w.text("title", [], title) }
            if let description = domain.description { w.text("description", [], description) }
            if let metadata = domain.metadata { w.verbatim(metadata.element) }
            w.text("memory", [("unit", "KiB")], String(domain.memoryKiB))
            w.text("currentMemory", [("unit", "KiB")], String(domain.currentMemoryKiB))
            w.text("vcpu", [("placement", "static")], String(domain.vcpus))
            w.element("os") { w in
                w.text("type", [("arch", domain.os.arch), ("machine", domain.os.machine)], domain.os.type)
                if let kernel = domain.os.kernel { w.text("kernel", [], kernel) }
                if let initrd = domain.os.initrd { w.text("initrd", [], initrd) }
                if let cmdline = domain.os.cmdline { w.text("cmdline", [], cmdline) }
                for dev in domain.os.bootDevices { w.empty("boot", [("dev", dev)]) }
            }
            if !domain.features.isEmpty {
                w.element("features") { w in
                    if domain.features.acpi { w.empty("acpi") }
                    if domain.features.apic { w.empty("apic") }
                    if domain.features.pae { w.empty("pae") }
                }
            }
            if let cpu = domain.cpu {
                let attrs: [(String, String?)] = [("mode", cpu.mode), ("match", cpu.match), ("check", cpu.check)]
                if let model = cpu.model {
                    w.element("cpu", attrs) { w in w.text("model", [("fallback", cpu.fallback)], model) }
                } else {
                    w.empty("cpu", attrs)
                }
            }
            w.optionalElement("clock", [("offset", domain.clockOffset)]) { w in
                for timer in domain.clockTimers { timer.write(into: &w) }
            }
            w.text("on_poweroff", [], domain.onPoweroff.rawValue)
            w.text("on_reboot", [], domain.onReboot.rawValue)
            w.text("on_crash", [], domain.onCrash.rawValue)
            domain.pm.write(into: &w)
            w.element("devices") { w in writeDevices(domain, into: &w) }
        }
        return w.output
    }

    private static func writeDevices(_ domain: Domain, into w: inout LibvirtXMLWriter) {
        let devices = domain.devices
        if let emulator = devices.emulator { w.text("emulator", [], emulator) }
        for disk in devices.disks {
            w.element("disk", [("type", "file"), ("device", disk.device)]) { w in
                w.empty("driver", [("name", disk.driverName), ("type", disk.format)])
                if let file = disk.sourceFile { w.empty("source", [("file", file)]) }
                w.empty("target", [("dev", disk.targetDev), ("bus", disk.targetBus)])
                if disk.readonly { w.empty("readonly") }
                if let address = disk.address { AddressFormatter.write(address, into: &w) }
            }
        }
        for controller in devices.controllers {
            let attrs: [(String, String?)] = [("type", controller.type), ("index", String(controller.index)),
                                              ("model", controller.model), ("ports", controller.ports.map(String.init)),
                                              ("vectors", controller.vectors.map(String.init))]
            w.optionalElement("controller", attrs) { w in
                if let name = controller.modelName { w.empty("model", [("name", name)]) }
                if controller.chassis != nil || controller.port != nil {
                    w.empty("target", [("chassis", controller.chassis.map(String.init)),
                                       ("port", controller.port.map { "0x" + String($0, radix: 16) })])
                }
                if let start = controller.masterStartPort { w.empty("master", [("startport", String(start))]) }
                if let address = controller.address { AddressFormatter.write(address, into: &w) }
            }
        }
        for nic in devices.interfaces {
            w.element("interface", [("type", nic.type)]) { w in
                if let mac = nic.mac { w.empty("mac", [("address", mac)]) }
                if nic.sourceNetwork != nil || nic.sourceBridge != nil {
                    w.empty("source", [("network", nic.sourceNetwork), ("bridge", nic.sourceBridge)])
                }
                if let dev = nic.targetDev { w.empty("target", [("dev", dev)]) }
                if let model = nic.model { w.empty("model", [("type", model)]) }
                if nic.linkDown { w.empty("link", [("state", "down")]) }
                if let address = nic.address { AddressFormatter.write(address, into: &w) }
            }
        }
        for serial in devices.serials { ChardevFormatter.write(serial, as: "serial", into: &w) }
        for parallel in devices.parallels { ChardevFormatter.write(parallel, as: "parallel", into: &w) }
        for (index, console) in devices.consoles.enumerated() {
            // Console 0 of type serial is written as a copy of serial 0 (libvirt's rule).
            if case .console(.serial, _) = console.target, index < devices.serials.count {
                var copy = devices.serials[index]
                copy.target = .console(type: .serial, port: devices.serials[index].target.port ?? 0)
                ChardevFormatter.write(copy, as: "console", into: &w)
            } else {
                ChardevFormatter.write(console, as: "console", into: &w)
            }
        }
        for channel in devices.channels { ChardevFormatter.write(channel, as: "channel", into: &w) }
        for input in devices.inputs { w.empty("input", [("type", input.type), ("bus", input.bus)]) }
        for graphics in devices.graphics {
            let attrs: [(String, String?)] = [("type", graphics.type.rawValue), ("port", graphics.port.map(String.init)),
                                              ("autoport", graphics.autoport.map { $0 ? "yes" : "no" }),
                                              ("listen", graphics.listen)]
            w.optionalElement("graphics", attrs) { w in
                if let listen = graphics.listen { w.empty("listen", [("type", "address"), ("address", listen)]) }
            }
        }
        for audio in devices.audios { w.empty("audio", [("id", String(audio.id)), ("type", audio.type)]) }
        for video in devices.videos {
            w.element("video") { w in
                w.empty("model", [("type", video.model), ("vram", video.vram.map(String.init)),
                                  ("heads", video.heads.map(String.init)), ("primary", video.primary ? "yes" : nil)])
                if let address = video.address { AddressFormatter.write(address, into: &w) }
            }
        }
        if let balloon = devices.memballoon {
            w.optionalElement("memballoon", [("model", balloon.model)]) { w in
                if let address = balloon.address { AddressFormatter.write(address, into: &w) }
            }
        }
    }
}
