import Foundation
import SystemPackage
import VirtKitDomain
import VirtKitHost
import VirtKitModel
import VirtKitNetwork

extension Networks {
    /// `net-define`: parses, fills in libvirt's defaults (uuid, a free `virbrN`, a MAC) and
    /// saves. A network of the same name is redefined when its uuid matches (or none is given);
    /// a uuid another network has is refused.
    public func define(xml: String) throws(RuntimeError) -> NetworkSummary {
        var network = try parse(xml)
        try checkClash(network)
        if network.uuid == nil { network.uuid = records[network.name]?.network.uuid ?? UUIDText.random() }
        fillDefaults(&network)
        let text = NetworkFormatter.format(network)
        do {
            try AtomicFile.makeDirectory(files.definitions)
            try AtomicFile.write(Array(text.utf8), to: files.definition(network.name))
        } catch {
            throw RuntimeError(.systemError, "cannot save network '\(network.name)': \(error)", cause: error)
        }
        var record = records[network.name] ?? Record(network: network, persistent: true, status: nil, autostart: false)
        record.network = network
        record.persistent = true
        records[network.name] = record
        logger.info("network \(network.name) defined")
        return summary(network.name, record)
    }

    /// `net-create`: a transient network, started at once; gone when destroyed. A name or uuid
    /// a network has already is refused (libvirt: "network 'X' already exists").
    public func create(xml: String) async throws(RuntimeError) -> NetworkSummary {
        var network = try parse(xml)
        if records[network.name] != nil {
            throw RuntimeError(.networkExists, "operation failed: network '\(network.name)' already exists")
        }
        try checkClash(network)
        if network.uuid == nil { network.uuid = UUIDText.random() }
        fillDefaults(&network)
        records[network.name] = Record(network: network, persistent: false, status: nil, autostart: false)
        do {
            return try await start(network.name)
        } catch {
            records[network.name] = nil
            throw error
        }
    }

    func parse(_ xml: String) throws(RuntimeError) -> Network {
        do {
            return try NetworkParser.parse(xml)
        } catch {
            throw RuntimeError(error.code == .configUnsupported ? .configUnsupported : .xmlError, error.message, cause: error)
        }
    }

    func checkClash(_ network: Network) throws(RuntimeError) {
        if let existing = records[network.name], let uuid = network.uuid, existing.network.uuid != uuid {
            throw RuntimeError(.networkExists,
                               "operation failed: network '\(network.name)' already exists with uuid \(existing.network.uuid ?? "")")
        }
        if let uuid = network.uuid, let other = records.first(where: { $0.key != network.name && $0.value.network.uuid == uuid }) {
            throw RuntimeError(.networkExists, "operation failed: network '\(other.key)' is already defined with uuid \(uuid)")
        }
        if let bridge = network.bridge?.name, network.ownsBridge,
           let other = records.first(where: { $0.key != network.name && $0.value.network.bridge?.name == bridge && $0.value.network.ownsBridge }) {
            throw RuntimeError(.networkExists, "operation failed: bridge name '\(bridge)' already in use by network '\(other.key)'")
        }
    }

    /// libvirt's defaults for a network with a bridge of its own: the first `virbrN` that no
    /// network and no host link has, and a random MAC under 52:54:00.
    func fillDefaults(_ network: inout Network) {
        guard network.ownsBridge else { return }
        if network.bridge?.name == nil {
            let taken = Set(records.values.compactMap { $0.network.bridge?.name })
            let name = (0..<10_000).lazy.map { "virbr\($0)" }.first { !taken.contains($0) && !NetworkLink.exists($0) }
            network.bridge?.name = name
        }
        if network.mac == nil { network.mac = MACAddress.random() }
    }

    /// `net-undefine`: the definition and autostart mark go; an active network runs on, transient.
    public func undefine(_ name: String) throws(RuntimeError) {
        var record = try record(name)
        guard record.persistent else {
            throw RuntimeError(.operationInvalid, "Requested operation is not valid: network '\(name)' is not persistent")
        }
        for path in [files.definition(name), files.autostartMark(name)] where unlink(path.string) != 0 && errno != ENOENT {
            throw RuntimeError(.systemError, "cannot remove '\(path.string)': \(Errno(rawValue: errno))")
        }
        if var status = record.status {
            record.persistent = false
            record.autostart = false
            status.transient = true
            record.status = status
            try? status.write(to: files.status(name))
            records[name] = record
        } else {
            records[name] = nil
        }
        logger.info("network \(name) undefined")
    }

    /// `net-start`.
    public func start(_ name: String) async throws(RuntimeError) -> NetworkSummary {
        let record = try record(name)
        guard record.status == nil else {
            throw RuntimeError(.operationInvalid, "Requested operation is not valid: network is already active")
        }
        try AtomicFile.makeDirectory(files.run, or: "cannot create the network run directory")
        let path = files.status(name)
        var status: NetworkStatus
        do {
            let logger = logger
            status = try await starter.start(record.network, transient: !record.persistent) { progress in
                do { try progress.write(to: path) } catch { logger.error("network \(name): cannot record the start: \(error)") }
            }
        } catch {
            unlink(path.string)
            throw error
        }
        status.complete = true
        do {
            try status.write(to: files.status(name))
        } catch {
            await starter.stop(status, name: name)
            throw RuntimeError(.systemError, "cannot record network '\(name)' as started: \(error)", cause: error)
        }
        records[name]?.status = status
        logger.info("network \(name) started (bridge \(status.bridge))")
        return summary(name, try self.record(name))
    }

    /// `net-destroy`: dnsmasq, the firewall table and the bridge go; a transient network is gone.
    public func destroy(_ name: String) async throws(RuntimeError) -> NetworkSummary {
        let record = try record(name)
        guard let status = record.status else {
            throw RuntimeError(.operationInvalid, "Requested operation is not valid: network is not active")
        }
        await starter.stop(status, name: name)
        unlink(files.status(name).string)
        records[name]?.status = nil
        let after = try self.record(name)
        if !after.persistent { records[name] = nil }
        logger.info("network \(name) destroyed")
        return summary(name, after)
    }

    /// `net-autostart [--disable]`.
    public func setAutostart(_ name: String, enabled: Bool) throws(RuntimeError) -> NetworkSummary {
        let record = try record(name)
        guard record.persistent else {
            throw RuntimeError(.operationInvalid, "Requested operation is not valid: cannot set autostart for transient network")
        }
        do {
            if enabled {
                try AtomicFile.makeDirectory(files.autostart)
                try AtomicFile.write([], to: files.autostartMark(name))
            } else if unlink(files.autostartMark(name).string) != 0 && errno != ENOENT {
                throw HostError("cannot remove", files.autostartMark(name).string, Errno(rawValue: errno))
            }
        } catch {
            throw RuntimeError(.systemError, "cannot set autostart for network '\(name)': \(error)", cause: error)
        }
        records[name]?.autostart = enabled
        return summary(name, try self.record(name))
    }

    /// Starts the networks marked autostart that are not active; a failure is logged and the
    /// others still start. Returns the names that failed, with why.
    public func startAutostarted() async -> [(name: String, error: RuntimeError)] {
        var failed: [(name: String, error: RuntimeError)] = []
        for name in records.keys.sorted() where records[name]?.autostart == true && records[name]?.status == nil {
            do {
                _ = try await start(name)
            } catch {
                logger.error("network \(name) did not autostart: \(error)")
                failed.append((name, error))
            }
        }
        return failed
    }

    /// `net-dhcp-leases [--mac]`: dnsmasq's unexpired leases, sorted by MAC.
    public func leases(_ name: String, mac: String?) throws(RuntimeError) -> [NetworkLease] {
        let record = try record(name)
        let network = record.status.flatMap { try? NetworkParser.parse($0.xml) } ?? record.network
        guard let bridge = record.status?.bridge ?? network.bridge?.name else { return [] }
        let wanted = try mac.map { (text: String) throws(RuntimeError) -> String in
            guard let normal = MACAddress.normalise(text) else {
                throw RuntimeError(.invalidArgument, "invalid argument: invalid MAC address '\(text)'")
            }
            return normal
        }
        let now = Int64(Date().timeIntervalSince1970)
        let text = String(decoding: AtomicFile.read(files.leaseFile(bridge: bridge)) ?? [], as: UTF8.self)
        return DnsmasqLeases.parse(text).compactMap { lease -> NetworkLease? in
            guard lease.expiry == 0 || lease.expiry >= now, wanted == nil || lease.mac == wanted else { return nil }
            let family = lease.address.family
            let prefix = network.ips.first { $0.family == family }?.prefix ?? lease.address.width
            return NetworkLease(expiryTime: lease.expiry, mac: lease.mac ?? "", type: family.rawValue, address: lease.address.description,
                                prefix: prefix, hostname: lease.hostname, clientID: lease.clientID, interface: bridge)
        }.sorted { $0.mac.lowercased() < $1.mac.lowercased() }
    }
}

extension AtomicFile {
    /// ``makeDirectory(_:permissions:)`` with the runtime's error.
    static func makeDirectory(_ path: FilePath, or message: String) throws(RuntimeError) {
        do {
            try makeDirectory(path)
        } catch {
            throw RuntimeError(.systemError, "\(message) '\(path.string)': \(error)", cause: error)
        }
    }
}
