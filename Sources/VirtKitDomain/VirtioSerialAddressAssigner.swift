/// libvirt's virtio-serial port allocation (`qemuDomainAssignVirtioSerialAddresses`): virtio
/// consoles take the lowest free port from 0 without recording it, channels the lowest from 1,
/// on the first controller with room; a controller is added when none has room.
enum VirtioSerialAddressAssigner {
    static let defaultPorts = 31

    static func assign(_ domain: inout Domain) throws(DomainError) {
        var devices = domain.devices
        domain.devices = Devices()  // taken out, so that changing `devices` copies no array
        defer { domain.devices = devices }
        // Which ports are taken, not a flag per port: `ports` may say two billion.
        var ports: [Int: PortMap] = [:]
        for controller in devices.controllers where controller.type == "virtio-serial" {
            ports[controller.index] = PortMap(count: controller.ports ?? defaultPorts)
        }
        for chardev in devices.channels + devices.consoles {
            guard case .virtioSerial(let controller, _, let port) = chardev.address, port != 0 else { continue }
            let c = Int(controller), p = Int(port)
            guard var map = ports[c] else {
                throw DomainError(.xmlError, "virtio serial controller \(controller) is missing")
            }
            guard p < map.count else {
                throw DomainError(.xmlError, "virtio serial controller \(controller) does not have port \(port)")
            }
            if map.used.contains(p) {
                throw DomainError(.xmlError, "virtio serial port \(port) on controller \(controller) is already occupied")
            }
            map.used.insert(p)
            ports[c] = map
        }
        func next(allowZero: Bool, onlyController: Int?) throws(DomainError) -> (Int, Int) {
            let start = allowZero ? 0 : 1
            let indices = onlyController.map { [$0] } ?? ports.keys.sorted()
            for index in indices {
                guard let map = ports[index] else {
                    throw DomainError(.internalError, "virtio-serial controller \(index) not available")
                }
                if let port = map.firstFree(from: start) {
                    ports[index]?.used.insert(port)
                    return (index, port)
                }
            }
            if let only = onlyController {
                throw DomainError(.xmlError, "Unable to find a free port on virtio-serial controller \(only)")
            }
            var newIndex = 0
            while ports[newIndex] != nil { newIndex += 1 }
            DomainDefaults.insertController(Controller(type: "virtio-serial", index: newIndex), into: &devices.controllers)
            var map = PortMap(count: defaultPorts)
            map.used.insert(start)
            ports[newIndex] = map
            return (newIndex, start)
        }
        for console in devices.consoles {
            guard case .console(.virtio, _) = console.target else { continue }
            if case .virtioSerial(_, _, let port) = console.address, port != 0 { continue }
            _ = try next(allowZero: true, onlyController: nil)
        }
        for i in devices.channels.indices {
            guard case .virtioChannel = devices.channels[i].target else { continue }
            var only: Int?
            if case .virtioSerial(let controller, _, let port) = devices.channels[i].address {
                if port != 0 { continue }
                only = Int(controller)
            }
            let (controller, port) = try next(allowZero: false, onlyController: only)
            devices.channels[i].address = .virtioSerial(controller: UInt32(controller), bus: 0, port: UInt32(port))
        }
    }
}

/// One virtio-serial controller's ports: how many, and which are taken.
private struct PortMap {
    let count: Int
    var used: Set<Int> = []

    /// The lowest free port from `start`, nil when all are taken.
    func firstFree(from start: Int) -> Int? {
        var port = start
        while port < count {
            if !used.contains(port) { return port }
            port += 1
        }
        return nil
    }
}
