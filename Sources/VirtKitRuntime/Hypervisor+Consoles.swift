import SystemPackage
import VirtKitModel
import VirtKitDomain
import VirtKitGuestAgent
import VirtKitQEMU

/// Consoles, channels and logs: what the console brokers of running guests serve.
extension Hypervisor {
    /// The chardevs virtkitd serves for running guest `name`, with their client sockets.
    public func chardevs(name: String) async throws(RuntimeError) -> [ChardevInfo] {
        let guest = try running(name)
        guard let brokers = await guest.brokers else { return [] }
        let status = guest.snapshot
        let fallback = BrokeredChardev.defaultConsole(brokers.entries.map(\.record))?.alias
        var result: [ChardevInfo] = []
        for entry in brokers.entries {
            let record = entry.record
            let statistics = await entry.broker.statistics()
            var sockets: [String: String] = [:]
            for mode in ConsoleMode.allCases {
                sockets[mode.rawValue] = BrokeredChardev.consoleSocket(
                    guestDirectory: status.guestDirectory, alias: record.alias, mode: mode)
            }
            result.append(ChardevInfo(
                alias: record.alias, role: record.role, names: record.names, targetName: record.targetName,
                isDefaultConsole: record.alias == fallback, pty: record.pty, path: record.path, log: record.log,
                sockets: sockets, clients: statistics.clients, bytesFromGuest: statistics.bytesFromGuest,
                bytesToGuest: statistics.bytesToGuest, logBytesLost: statistics.logBytesLost))
        }
        return result
    }

    /// The client socket of console `device` (nil: the default console) of running guest
    /// `name` in `mode`, with libvirt's errors for a device that is not there or not served.
    public func consoleSocket(name: String, device: String?, mode: ConsoleMode) async throws(RuntimeError) -> FilePath {
        let guest = try running(name)
        guard let brokers = await guest.brokers, let entry = brokers.entry(named: device) else {
            throw notServed(guest.domain, name: name, device: device, what: "character device")
        }
        return FilePath(BrokeredChardev.consoleSocket(
            guestDirectory: guest.snapshot.guestDirectory, alias: entry.record.alias, mode: mode))
    }

    /// The read-write client socket of the virtio channel named `target` (or with that alias).
    public func channelSocket(name: String, target: String, mode: ConsoleMode = .readwrite) async throws(RuntimeError) -> FilePath {
        let guest = try running(name)
        guard let brokers = await guest.brokers, let entry = brokers.entry(named: target),
              entry.record.role == "channel" || entry.record.role == "guestfwd" else {
            throw notServed(guest.domain, name: name, device: target, what: "channel")
        }
        return FilePath(BrokeredChardev.consoleSocket(guestDirectory: guest.snapshot.guestDirectory,
                                                      alias: entry.record.alias, mode: mode))
    }

    /// The log of chardev `device` of domain `name` (running or not), or its QEMU log for nil.
    public func logPath(name: String, device: String?) throws(RuntimeError) -> FilePath {
        let record = try lookup(name)
        guard let device else { return layout.logPath(name) }
        let builder = QEMUCommandLineBuilder(paths: launcher.paths(id: 0, name: name), mode: .start(firstFD: 3))
        let planned = BrokeredChardev.plan(domain: record.domain, builder: builder, guestDirectory: "",
                                           logDirectory: layout.logDirectory)
        guard let chardev = planned.first(where: { $0.names.contains(device) }) else {
            throw notServed(record.domain, name: name, device: device, what: "character device")
        }
        guard let log = chardev.log else {
            throw RuntimeError(.operationInvalid, "Requested operation is not valid: character device \(device) is not logged")
        }
        return FilePath(log)
    }

    /// libvirt's error for a device name that is unknown, or known but not served by virtkitd.
    func notServed(_ domain: Domain, name: String, device: String?, what: String) -> RuntimeError {
        guard let device else {
            return RuntimeError(.operationFailed, "operation failed: domain '\(name)' has no console virtkitd serves (a pty or a bind-mode unix source)")
        }
        let known = QEMUCommandLineBuilder.aliasedChardevs(domain.devices).contains { entry in
            if entry.alias == device { return true }
            if case .virtioChannel(let target?, _) = entry.chardev.target, target == device { return true }
            return false
        }
        if known {
            return RuntimeError(.operationFailed,
                            "operation failed: \(what) \(device) is not served by virtkitd: only pty and bind-mode unix sources are")
        }
        return RuntimeError(.internalError, "internal error: cannot find \(what) \(device)")
    }
}
