import VirtKitDomain

/// The `-device`, `-netdev`, `-blockdev`, `-audiodev` and display arguments of the devices that
/// are not chardevs, in libvirt 9.0's order and spelling.
enum DeviceArguments {
    static func pciBusName(_ bus: UInt32, domain: Domain) -> String {
        bus == 0 ? (domain.isQ35 ? "pcie.0" : "pci.0") : "pci.\(bus)"
    }

    static func addPCIAddress(_ address: DeviceAddress?, domain: Domain, to json: inout JSONObject) {
        guard case .pci(_, let bus, let slot, let function, let multifunction) = address else { return }
        json.add("bus", pciBusName(bus, domain: domain))
        if multifunction == true { json.add("multifunction", true) }
        json.add("addr") { value in
            value.append("0x")
            value.append(hex: slot)
            if function != 0 {
                value.append(".0x")
                value.append(hex: function)
            }
        }
    }

    static func addVirtioSerialAddress(_ address: DeviceAddress?, to json: inout JSONObject) {
        guard case .virtioSerial(let controller, let bus, let port) = address else { return }
        json.add("bus") { value in
            value.append("virtio-serial")
            value.append(decimal: UInt64(controller))
            value.append(0x2E)
            value.append(decimal: UInt64(bus))
        }
        json.add("nr", Int(port))
    }

    /// Controllers by type: PCI, USB, SATA, virtio-serial (`qemuBuildControllersCommandLine`).
    static func controllers(_ domain: Domain) -> [String] {
        var args: [String] = []
        let controllers = domain.devices.controllers
        for c in controllers where c.type == "pci" && c.model == "pcie-root-port" {
            var json = JSONObject()
            json.add("driver", "pcie-root-port")
            json.add("port", c.port)
            json.add("chassis", c.chassis)
            json.add("id", "pci.\(c.index)")
            addPCIAddress(c.address, domain: domain, to: &json)
            args += ["-device", json.string]
        }
        for c in controllers where c.type == "usb" && c.model != USBControllerModel.none.rawValue {
            var json = JSONObject()
            json.add("driver", c.model.flatMap(USBControllerModel.init(rawValue:))?.qemuDriver ?? "qemu-xhci")
            let alias = c.index == 0 ? "usb" : "usb\(c.index)"
            if let start = c.masterStartPort {
                json.add("masterbus", alias + ".0")
                json.add("firstport", start)
            } else {
                json.add("id", alias)
            }
            addPCIAddress(c.address, domain: domain, to: &json)
            args += ["-device", json.string]
        }
        for c in controllers where c.type == "sata" && !(domain.isQ35 && c.index == 0) {
            var json = JSONObject()
            json.add("driver", "ich9-ahci")
            json.add("id", "sata\(c.index)")
            addPCIAddress(c.address, domain: domain, to: &json)
            args += ["-device", json.string]
        }
        for c in controllers where c.type == "virtio-serial" {
            var json = JSONObject()
            json.add("driver", "virtio-serial-pci")
            json.add("id", "virtio-serial\(c.index)")
            json.add("max_ports", c.ports)
            json.add("vectors", c.vectors)
            addPCIAddress(c.address, domain: domain, to: &json)
            args += ["-device", json.string]
        }
        return args
    }

    static func disks(_ domain: Domain) -> [String] {
        var args: [String] = []
        for (i, disk) in domain.devices.disks.enumerated() {
            let n = domain.devices.disks.count - i
            var storage = JSONObject()
            storage.add("driver", "file")
            storage.add("filename", disk.sourceFile ?? "")
            storage.add("node-name", "libvirt-\(n)-storage")
            storage.add("auto-read-only", true)
            storage.add("discard", "unmap")
            var format = JSONObject()
            format.add("node-name", "libvirt-\(n)-format")
            format.add("read-only", disk.readonly)
            format.add("driver", disk.format)
            format.add("file", "libvirt-\(n)-storage")
            var device = JSONObject()
            if disk.targetBus == "virtio" {
                device.add("driver", "virtio-blk-pci")
                addPCIAddress(disk.address, domain: domain, to: &device)
                device.add("drive", "libvirt-\(n)-format")
                device.add("id", "virtio-disk\(virtioDiskIndex(disk.targetDev))")
            } else {
                device.add("driver", "ide-hd")
                device.add("drive", "libvirt-\(n)-format")
                device.add("id", "\(disk.targetBus)0-0-\(i)")
            }
            if i == 0 { device.add("bootindex", 1) }
            args += ["-blockdev", storage.string, "-blockdev", format.string, "-device", device.string]
        }
        return args
    }

    private static func virtioDiskIndex(_ dev: String) -> Int {
        guard let last = dev.unicodeScalars.last, last.value >= 97, last.value <= 122 else { return 0 }
        return Int(last.value) - 97
    }

    /// The NICs and their netdevs: user-mode networking, or a tap virtkitd made, passed as the
    /// descriptor number `taps` gives (libvirt's `{"type":"tap","fd":"N"}`; vhost-net is not
    /// passed, which libvirt does only for KVM). `guestForwards`
    /// (``ChardevFrontend/guestForwardRule(address:port:chardevID:)`` entries) go on the first
    /// user-mode NIC's netdev.
    static func interfaces(_ domain: Domain, guestForwards: [String] = [], taps: [Int: Int32]?) throws(QEMUCommandLineError) -> [String] {
        var args: [String] = []
        var forwards = guestForwards
        for (i, nic) in domain.devices.interfaces.enumerated() {
            var netdev = JSONObject()
            if nic.usesTap {
                guard let fd = taps?[i] else {
                    throw QEMUCommandLineError("interface type '\(nic.type)' has no command line before a start: its tap is made then")
                }
                netdev.add("type", "tap")
                netdev.add("fd", String(fd))
            } else {
                netdev.add("type", "user")
                if !forwards.isEmpty { netdev.addRaw("guestfwd", "[" + forwards.joined(separator: ",") + "]") }
                forwards = []
            }
            netdev.add("id", "hostnet\(i)")
            var device = JSONObject()
            device.add("driver", nic.model == "virtio" ? "virtio-net-pci" : (nic.model ?? "rtl8139"))
            device.add("netdev", "hostnet\(i)")
            device.add("id", "net\(i)")
            device.add("mac", nic.mac)
            addPCIAddress(nic.address, domain: domain, to: &device)
            args += ["-netdev", netdev.string, "-device", device.string]
        }
        return args
    }

    /// Audio, graphics, video, balloon, sandbox, msg: what follows the chardevs.
    static func trailing(_ domain: Domain) -> [String] {
        var args: [String] = []
        let devices = domain.devices
        for audio in devices.audios {
            var json = JSONObject()
            json.add("id", "audio\(audio.id)")
            json.add("driver", audio.type)
            args += ["-audiodev", json.string]
        }
        for graphics in devices.graphics {
            switch graphics.type {
            case .spice:
                var value = ""
                if let port = graphics.port, port > 0 { value += "port=\(port)," }
                if let listen = graphics.listen { value += "addr=\(listen)," }
                value += "disable-ticketing=on,seamless-migration=on"
                args += ["-spice", value]
            case .vnc:
                let display = (graphics.port ?? 5900) - 5900
                args += ["-vnc", "\(graphics.listen ?? "127.0.0.1"):\(max(0, display)),audiodev=audio1"]
            }
        }
        for (i, video) in devices.videos.enumerated() {
            var json = JSONObject()
            json.add("driver", video.model == "cirrus" ? "cirrus-vga" : video.model == "vga" ? "VGA" : video.model)
            json.add("id", "video\(i)")
            addPCIAddress(video.address, domain: domain, to: &json)
            args += ["-device", json.string]
        }
        if let balloon = devices.memballoon, balloon.model == "virtio" {
            var json = JSONObject()
            json.add("driver", "virtio-balloon-pci")
            json.add("id", "balloon0")
            addPCIAddress(balloon.address, domain: domain, to: &json)
            args += ["-device", json.string]
        }
        args += ["-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"]
        args += ["-msg", "timestamp=on"]
        return args
    }
}
