import VirtKitDomain

/// Turns a defined ``Domain`` into the QEMU 7.2 command line libvirt 9.0 builds for it, in
/// libvirt's order (`qemuBuildCommandLine`), plus the descriptors to pre-open for a real start.
public struct QEMUCommandLineBuilder: Sendable {
    public var paths: QEMUPaths
    public var mode: StartMode

    public init(paths: QEMUPaths, mode: StartMode) {
        self.paths = paths
        self.mode = mode
    }

    /// The pretend start `virsh domxml-to-native qemu-argv` prints for a system libvirtd.
    public static func libvirtPretend(for domain: Domain) -> QEMUCommandLineBuilder {
        QEMUCommandLineBuilder(paths: .libvirtSystem(domainName: domain.name), mode: .pretend)
    }

    /// The chardev id libvirt gives the device `alias` (`charserial0`).
    static func chardevID(_ alias: String) -> String { "char" + alias }

    public func build(_ domain: Domain) throws(QEMUCommandLineError) -> QEMUInvocation {
        let devices = domain.devices
        let monitorPath = paths.domainDirectory + "/monitor.sock"

        // Aliases and socket paths first: the descriptor plan needs them in libvirt's order.
        let aliased = Self.aliasedChardevs(devices).map {
            (kind: $0.kind, alias: $0.alias, chardev: $0.chardev, unixPath: unixPath($0.chardev))
        }
        var planner: DescriptorPlanner?
        if case .start(let firstFD) = mode {
            var p = DescriptorPlanner(firstFD: firstFD)
            for entry in aliased { p.plan(alias: entry.alias, chardev: entry.chardev, unixPath: entry.unixPath) }
            p.planMonitor(path: monitorPath)
            p.planTaps(devices.interfaces)
            planner = p
        }

        var argv: [String] = [devices.emulator ?? "/usr/bin/qemu-system-x86_64"]
        argv += ["-name", "guest=" + ChardevBackend.escapeComma(domain.name) + ",debug-threads=on"]
        argv.append("-S")
        var key = JSONObject()
        key.add("qom-type", "secret")
        key.add("id", "masterKey0")
        key.add("format", "raw")
        key.add("file", paths.domainDirectory + "/master-key.aes")
        argv += ["-object", key.string]
        argv += ["-machine", domain.os.machine + ",usb=off,dump-guest-core=off,memory-backend=pc.ram"]
        argv += ["-accel", domain.virtType == .kvm ? "kvm" : "tcg"]
        if let cpu = domain.cpu {
            if cpu.mode == "host-passthrough" {
                argv += ["-cpu", "host,migratable=on"]
            } else if let model = cpu.model {
                argv += ["-cpu", model]
            }
        }
        argv += ["-m", String(domain.memoryKiB / 1024)]
        var ram = JSONObject()
        ram.add("qom-type", "memory-backend-ram")
        ram.add("id", "pc.ram")
        ram.add("size", domain.memoryKiB * 1024)
        argv += ["-object", ram.string]
        argv += ["-overcommit", "mem-lock=off"]
        argv += ["-smp", "\(domain.vcpus),sockets=\(domain.vcpus),cores=1,threads=1"]
        argv += ["-uuid", domain.uuid]
        if devices.graphics.isEmpty { argv += ["-display", "none"] }
        argv += ["-no-user-config", "-nodefaults"]
        if let monitor = planner?.monitor {
            argv += ["-chardev", "socket,id=charmonitor,fd=\(monitor.number),server=on,wait=off"]
        } else {
            argv += ["-chardev", "socket,id=charmonitor,path=" + ChardevBackend.escapeComma(monitorPath)
                + ",server=on,wait=off"]
        }
        argv += ["-mon", "chardev=charmonitor,id=monitor,mode=control"]
        argv += ["-rtc", ClockTimer.rtcArgument(offset: domain.clockOffset, timers: domain.clockTimers)]
        argv += ClockTimer.timerArguments(domain.clockTimers)
        argv.append("-no-shutdown")
        if !domain.features.acpi { argv.append("-no-acpi") }
        argv += domain.pm.arguments(q35: domain.isQ35)
        argv += ["-boot", "strict=on"]
        if let kernel = domain.os.kernel { argv += ["-kernel", kernel] }
        if let initrd = domain.os.initrd { argv += ["-initrd", initrd] }
        if let cmdline = domain.os.cmdline { argv += ["-append", cmdline] }
        argv += DeviceArguments.controllers(domain)
        argv += DeviceArguments.disks(domain)
        // libvirt gives each guestfwd channel a `-netdev user` of its own, with no NIC: QEMU
        // warns that it has no peer and the guest can never reach it. A real start puts the
        // forwards on the first NIC's netdev instead, where the guest's TCP goes.
        var guestForwards: [String] = []
        if case .start = mode, devices.interfaces.contains(where: { !$0.usesTap }) {
            for entry in aliased {
                guard case .guestfwd(let address, let port) = entry.chardev.target else { continue }
                guestForwards.append(ChardevFrontend.guestForwardRule(address: address, port: port,
                                                                      chardevID: Self.chardevID(entry.alias)))
            }
        }
        argv += try DeviceArguments.interfaces(domain, guestForwards: guestForwards, taps: planner?.taps.mapValues(\.number))
        for entry in aliased {
            let backend = ChardevBackend(unixPath: entry.unixPath, descriptors: planner?.byAlias[entry.alias], paths: paths)
            let id = Self.chardevID(entry.alias)
            argv += try backend.arguments(for: entry.chardev, id: id)
            if !guestForwards.isEmpty, case .guestfwd = entry.chardev.target { continue }
            argv += try ChardevFrontend.arguments(for: entry.chardev, alias: entry.alias, chardevID: id, domain: domain)
        }
        argv += DeviceArguments.trailing(domain)
        return QEMUInvocation(arguments: argv, descriptors: planner?.planned ?? [])
    }

    /// Every device with a chardev of its own, in libvirt's order (serials, parallels, channels,
    /// consoles), with the alias its chardev is named after (`serial0` -> `charserial0`). A
    /// serial-target console shares its serial's chardev and is not listed.
    public static func aliasedChardevs(_ devices: Devices) -> [(kind: String, alias: String, chardev: Chardev)] {
        var aliased: [(kind: String, alias: String, chardev: Chardev)] = []
        for (i, chardev) in devices.serials.enumerated() {
            aliased.append(("serial", chardev.alias ?? "serial" + String(i), chardev))
        }
        for (i, chardev) in devices.parallels.enumerated() {
            aliased.append(("parallel", chardev.alias ?? "parallel" + String(i), chardev))
        }
        for (i, chardev) in devices.channels.enumerated() {
            aliased.append(("channel", chardev.alias ?? "channel" + String(i), chardev))
        }
        for (i, chardev) in devices.consoles.enumerated() {
            if case .console(.serial, _) = chardev.target { continue }
            aliased.append(("console", chardev.alias ?? "console" + String(i), chardev))
        }
        return aliased
    }

    /// The device of `chardev` as `device_add` takes it (the JSON of its `-device`), for a
    /// hot-plug. A chardev whose front end is not one device (a guestfwd rule) is refused.
    public static func hotplugDevice(_ chardev: Chardev, alias: String, domain: Domain) throws(QEMUCommandLineError) -> String {
        let arguments = try ChardevFrontend.arguments(for: chardev, alias: alias, chardevID: chardevID(alias), domain: domain)
        guard arguments.count == 2, arguments[0] == "-device" else {
            throw QEMUCommandLineError("unsupported configuration: this device cannot be hot-plugged: its front end is not a device")
        }
        return arguments[1]
    }

    /// The socket path a UNIX chardev uses: its own, or for a path-less virtio channel the one
    /// libvirt generates (`<channel dir>/<name>`, or `vioser-CC-BB-PP.sock` without a name).
    public func unixPath(_ chardev: Chardev) -> String? {
        guard case .unix(let unix) = chardev.source else { return nil }
        if let path = unix.path { return path }
        guard case .virtioChannel(let name, _) = chardev.target else { return nil }
        if let name { return paths.channelDirectory + "/" + name }
        if case .virtioSerial(let c, let b, let p) = chardev.address {
            func two(_ v: UInt32) -> String { v < 10 ? "0\(v)" : String(v) }
            return paths.channelDirectory + "/vioser-\(two(c))-\(two(b))-\(two(p)).sock"
        }
        return nil
    }
}
