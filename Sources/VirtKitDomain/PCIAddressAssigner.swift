/// libvirt's PCI address assignment for the devices VirtKit supports.
///
/// i440fx (`pc`): everything on bus 0; slot 1 is the PIIX3 (USB UHCI at function 2), slot 2 goes
/// to the primary video, the rest take the next free slot in libvirt's device order.
/// q35: each PCIe device gets its own `pcie-root-port` (bus N, slot 0), and one spare port is
/// added for hot-plug; the ports fill functions of pcie.0 slot 1, then slot 2, and so on.
enum PCIAddressAssigner {
    /// A device slot to fill, in libvirt's order (`qemuDomainAssignDevicePCISlots`).
    private enum Slot {
        case interface(Int), controller(Int), disk(Int), memballoon, video(Int), serial(Int)
    }

    static func assign(_ domain: inout Domain) throws(DomainError) {
        var assignment = Assignment(devices: domain.devices, isQ35: domain.isQ35)
        domain.devices = Devices()  // taken out, so that changing the devices copies no array
        defer { domain.devices = assignment.devices }
        assignment.reserveExplicitSlots()
        assignment.placeFixedDevices()
        if domain.isQ35 { try assignment.completeRootPorts() }
        let wanted = try assignment.wantedSlots()
        if domain.isQ35 {
            try assignment.placeOnRootPorts(wanted)
        } else {
            try assignment.placeOnBusZero(wanted)
        }
    }

    /// The devices being assigned, and the slots of bus 0 taken so far.
    private struct Assignment {
        var devices: Devices
        let isQ35: Bool
        var used: Set<UInt32>

        init(devices: Devices, isQ35: Bool) {
            self.devices = devices
            self.isQ35 = isQ35
            used = [0, isQ35 ? 0x1f : 1]
        }

        mutating func reserveExplicitSlots() {
            let addresses = devices.interfaces.map(\.address) + devices.controllers.map(\.address) + devices.disks.map(\.address)
                + [devices.memballoon?.address] + devices.videos.map(\.address) + devices.serials.map(\.address)
            for address in addresses {
                if case .pci(_, 0, let slot, _, _) = address { used.insert(slot) }
            }
        }

        /// The places libvirt fixes: PIIX3's USB and q35's SATA controller, the primary video.
        mutating func placeFixedDevices() {
            for i in devices.controllers.indices where devices.controllers[i].address == nil {
                let c = devices.controllers[i]
                if !isQ35 && c.type == "usb" && c.index == 0 && c.model == "piix3-uhci" {
                    devices.controllers[i].address = .pci(domain: 0, bus: 0, slot: 1, function: 2, multifunction: nil)
                } else if isQ35 && c.type == "sata" && c.index == 0 {
                    devices.controllers[i].address = .pci(domain: 0, bus: 0, slot: 0x1f, function: 2, multifunction: nil)
                } else if isQ35 && c.index == 0, let (function, multifunction) = companionFunction(i), !used.contains(0x1d) {
                    // The ICH9's own USB2 place on q35 (`qemuDomainValidateDevicePCISlotsQ35`).
                    devices.controllers[i].address = .pci(domain: 0, bus: 0, slot: 0x1d, function: function, multifunction: multifunction)
                }
            }
            for c in devices.controllers where c.type == "usb" {
                if case .pci(_, 0, let slot, _, _) = c.address { used.insert(slot) }
            }
            if let primary = devices.videos.firstIndex(where: \.primary), devices.videos[primary].address == nil {
                let slot: UInt32 = isQ35 ? 1 : 2
                if !used.contains(slot) {
                    used.insert(slot)
                    devices.videos[primary].address = .pci(domain: 0, bus: 0, slot: slot, function: 0, multifunction: nil)
                }
            }
        }

        /// The devices still without an address, in libvirt's order.
        func wantedSlots() throws(DomainError) -> [Slot] {
            var wanted: [Slot] = []
            for i in devices.interfaces.indices where devices.interfaces[i].address == nil { wanted.append(.interface(i)) }
            for i in devices.controllers.indices where devices.controllers[i].address == nil {
                let c = devices.controllers[i]
                if c.type == "pci" || (c.type == "ide" && c.index == 0) || (c.type == "usb" && c.model == "none") { continue }
                wanted.append(.controller(i))
            }
            for i in devices.disks.indices where devices.disks[i].address == nil && devices.disks[i].targetBus == "virtio" {
                wanted.append(.disk(i))
            }
            if let balloon = devices.memballoon, balloon.model == "virtio", balloon.address == nil { wanted.append(.memballoon) }
            for i in devices.videos.indices where devices.videos[i].address == nil { wanted.append(.video(i)) }
            for i in devices.serials.indices where devices.serials[i].address == nil {
                guard case .serial(.pciSerial, _, _) = devices.serials[i].target else { continue }
                if isQ35 { throw DomainError(.configUnsupported, "pci-serial on a q35 machine is not supported by VirtKit") }
                wanted.append(.serial(i))
            }
            return wanted
        }

        mutating func place(_ slot: Slot, _ address: DeviceAddress) {
            switch slot {
            case .interface(let i): devices.interfaces[i].address = address
            case .controller(let i): devices.controllers[i].address = address
            case .disk(let i): devices.disks[i].address = address
            case .memballoon: devices.memballoon?.address = address
            case .video(let i): devices.videos[i].address = address
            case .serial(let i): devices.serials[i].address = address
            }
        }

        /// i440fx: the next free slot of bus 0 for each; the members of an ICH9 USB set share the
        /// slot the first of them took, each at its own function.
        mutating func placeOnBusZero(_ wanted: [Slot]) throws(DomainError) {
            var nextSlot: UInt32 = 1
            for slot in wanted {
                var function: UInt32 = 0
                var multifunction: Bool?
                if case .controller(let i) = slot, let companion = companionFunction(i) {
                    (function, multifunction) = companion
                    if let shared = companionSlot(of: i) {
                        place(slot, .pci(domain: 0, bus: 0, slot: shared, function: function, multifunction: multifunction))
                        continue
                    }
                }
                while used.contains(nextSlot) { nextSlot += 1 }
                guard nextSlot < 32 else { throw DomainError(.internalError, "No more available PCI slots") }
                used.insert(nextSlot)
                place(slot, .pci(domain: 0, bus: 0, slot: nextSlot, function: function, multifunction: multifunction))
            }
        }

        func companionFunction(_ i: Int) -> (UInt32, Bool?)? {
            let c = devices.controllers[i]
            guard c.type == "usb", let model = c.model.flatMap(USBControllerModel.init(rawValue:)) else { return nil }
            return model.companionFunction.map { ($0.function, $0.multifunction) }
        }

        /// The bus-0 slot an earlier member of controller `i`'s ICH9 set already has.
        func companionSlot(of i: Int) -> UInt32? {
            for j in devices.controllers.indices where j != i && devices.controllers[j].index == devices.controllers[i].index
                && companionFunction(j) != nil {
                if case .pci(_, 0, let slot, _, _) = devices.controllers[j].address { return slot }
            }
            return nil
        }

        /// q35: root ports already defined and still empty are used first; libvirt adds ports
        /// only for what is left, plus one spare for hot-plug.
        mutating func placeOnRootPorts(_ wanted: [Slot]) throws(DomainError) {
            var busesInUse = Set<UInt32>()
            for address in devices.interfaces.map(\.address) + devices.controllers.map(\.address)
                + devices.disks.map(\.address) + devices.videos.map(\.address) + [devices.memballoon?.address] {
                if case .pci(_, let bus, _, _, _) = address, bus != 0 { busesInUse.insert(bus) }
            }
            var freePorts = devices.controllers.filter { $0.model == "pcie-root-port" && !busesInUse.contains(UInt32($0.index)) }
                .map(\.index)
            var remaining: [Slot] = []
            for slot in wanted {
                if case .controller(let i) = slot, companionFunction(i) != nil {
                    throw DomainError(.configUnsupported, "ICH9 USB controllers on a q35 machine are not supported by VirtKit (use qemu-xhci)")
                }
                if freePorts.isEmpty {
                    remaining.append(slot)
                } else {
                    place(slot, .pci(domain: 0, bus: UInt32(freePorts.removeFirst()), slot: 0, function: 0, multifunction: nil))
                }
            }
            guard !remaining.isEmpty else { return }
            let firstBus = (devices.controllers.filter { $0.type == "pci" }.map(\.index).max() ?? 0) + 1
            for (n, slot) in remaining.enumerated() {
                place(slot, .pci(domain: 0, bus: UInt32(firstBus + n), slot: 0, function: 0, multifunction: nil))
            }
            try addRootPorts(count: remaining.count + 1, firstBus: firstBus)
        }

        /// `count` new root ports for buses from `firstBus`, eight functions a free slot of pcie.0.
        /// When pcie.0 has no free slot left, libvirt cannot add a root port and refuses.
        mutating func addRootPorts(count: Int, firstBus: Int) throws(DomainError) {
            for c in devices.controllers where c.model == "pcie-root-port" {
                if case .pci(_, 0, let slot, _, _) = c.address { used.insert(slot) }
            }
            let freeSlots = (UInt32(1)..<32).filter { !used.contains($0) }
            guard (count + 7) / 8 <= freeSlots.count else {
                throw DomainError(.internalError, "a PCI slot is needed to connect a PCI controller model='pcie-root-port', "
                                  + "but none is available, and it cannot be automatically added")
            }
            for n in 0..<count {
                var port = Controller(type: "pci", index: firstBus + n, model: "pcie-root-port")
                Self.complete(&port, n: n, of: count, in: freeSlots)
                devices.controllers.append(port)  // libvirt appends the ports it adds
            }
        }

        /// Root ports the domain names without an address: the same eight-a-slot placement,
        /// before any device is placed behind them.
        mutating func completeRootPorts() throws(DomainError) {
            let open = devices.controllers.indices.filter { devices.controllers[$0].model == "pcie-root-port" && devices.controllers[$0].address == nil }
            guard !open.isEmpty else { return }
            for c in devices.controllers where c.model == "pcie-root-port" {
                if case .pci(_, 0, let slot, _, _) = c.address { used.insert(slot) }
            }
            let freeSlots = (UInt32(1)..<32).filter { !used.contains($0) }
            guard (open.count + 7) / 8 <= freeSlots.count else {
                throw DomainError(.internalError, "a PCI slot is needed to connect a PCI controller model='pcie-root-port', "
                                  + "but none is available, and it cannot be automatically added")
            }
            for (n, i) in open.enumerated() { Self.complete(&devices.controllers[i], n: n, of: open.count, in: freeSlots) }
        }

        /// Port `n` of `count` placed together: function n % 8 of free slot n / 8, its chassis
        /// its index and its port number slot * 8 + function, unless the domain gave them.
        static func complete(_ port: inout Controller, n: Int, of count: Int, in freeSlots: [UInt32]) {
            let slot = freeSlots[n / 8]
            let function = UInt32(n % 8)
            let portsInSlot = min(8, count - (n / 8) * 8)
            port.modelName = port.modelName ?? "pcie-root-port"
            port.chassis = port.chassis ?? port.index
            port.port = port.port ?? Int(slot * 8 + function)
            port.address = .pci(domain: 0, bus: 0, slot: slot, function: function,
                                multifunction: function == 0 && portsInSlot > 1 ? true : nil)
        }
    }
}
