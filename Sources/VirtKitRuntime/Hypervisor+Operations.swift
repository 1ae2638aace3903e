import Foundation
import SystemPackage
import VirtKitModel
import VirtKitDomain
import VirtKitHost
#if canImport(Glibc)
import Glibc
#endif

extension Hypervisor {
    // MARK: - Definitions

    /// `virsh define`: validates, refuses a clash of name or uuid with another domain, saves the
    /// normalised XML. Redefining a domain (same name and uuid) replaces its inactive definition.
    public func define(xml: String) throws(RuntimeError) -> DomainSummary {
        let domain: Domain
        do {
            domain = try DomainParser.define(xml: xml)
        } catch {
            throw RuntimeError(error.code == .xmlError || error.code == .xmlDetail ? .xmlError : .configUnsupported,
                           error.message)
        }
        try Self.checkName(domain.name)
        if let existing = records[domain.name], existing.domain.uuid != domain.uuid {
            throw RuntimeError(.domainExists,
                           "operation failed: domain '\(domain.name)' already exists with uuid \(existing.domain.uuid)")
        }
        if let other = records.values.first(where: { $0.domain.uuid == domain.uuid && $0.domain.name != domain.name }) {
            throw RuntimeError(.domainExists,
                           "operation failed: domain '\(other.domain.name)' is already defined with uuid \(domain.uuid)")
        }
        // Generated socket paths must fit sockaddr_un for any id this daemon will hand out.
        let worstID = max(nextID, 99_999)
        if let (path, length) = launcher.overlongGeneratedPaths(domain, id: worstID).first {
            throw RuntimeError(.configUnsupported,
                           "generated UNIX socket path '\(path)' is \(length) bytes, more than the \(UnixSocket.maximumDirectPathLength) a socket path can hold; use a shorter run directory or channel name")
        }
        do {
            try AtomicFile.write(DomainFormatter.format(domain), to: layout.definitionPath(domain.name))
        } catch {
            throw RuntimeError(.systemError, error.description)
        }
        if var record = records[domain.name] {
            record.domain = domain
            record.persistent = true
            records[domain.name] = record
        } else {
            records[domain.name] = Record(domain: domain, persistent: true, lifecycle: .shutoff(.unknown))
        }
        return summary(domain.name)
    }

    /// `virsh undefine`: a running domain becomes transient and goes away when it stops.
    public func undefine(name: String) throws(RuntimeError) {
        let record = try lookup(name)
        unlink(layout.definitionPath(name).string)
        if case .shutoff = record.lifecycle {
            records[name] = nil
        } else {
            records[name]?.persistent = false
        }
    }

    /// libvirt refuses '/' in names; VirtKit also refuses what cannot be a file name.
    static func checkName(_ name: String) throws(RuntimeError) {
        if name.contains("/") {
            throw RuntimeError(.xmlError, "XML error: name \(name) cannot contain '/'")
        }
        if name.isEmpty || name == "." || name == ".." || name.hasPrefix(".") || name.utf8.count > 200
            || name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
            throw RuntimeError(.xmlError, "XML error: domain name '\(name)' is not usable as a file name (empty, leading '.', control characters or over 200 bytes)")
        }
    }

    // MARK: - Queries

    func lookup(_ name: String) throws(RuntimeError) -> Record {
        guard let record = records[name] else {
            throw RuntimeError(.noDomain, "Domain not found: no domain with matching name '\(name)'")
        }
        return record
    }

    func summary(_ name: String) -> DomainSummary {
        guard let record = records[name] else {
            return DomainSummary(id: nil, name: name, uuid: "", state: .shutoff, reason: .unknown)
        }
        switch record.lifecycle {
        case .shutoff(let reason):
            return DomainSummary(id: nil, name: name, uuid: record.domain.uuid,
                                 state: reason == .crashed ? .crashed : .shutoff, reason: reason)
        case .starting:
            return DomainSummary(id: nil, name: name, uuid: record.domain.uuid, state: .starting, reason: .booted)
        case .running(let guest):
            let status = guest.snapshot
            return DomainSummary(id: status.id, name: name, uuid: record.domain.uuid,
                                 state: status.stopping != nil ? .inShutdown : (status.paused ? .paused : .running),
                                 reason: status.paused ? .userRequested : .booted)
        }
    }

    /// `virsh list [--all]`: running domains by id, then (with all) the inactive ones by name.
    public func list(all: Bool) -> [DomainSummary] {
        let summaries = records.keys.map { summary($0) }
        let active = summaries.filter { $0.id != nil }.sorted { ($0.id ?? 0) < ($1.id ?? 0) }
        let inactive = summaries.filter { $0.id == nil }.sorted { $0.name < $1.name }
        return all ? active + inactive : active
    }

    public func state(name: String) throws(RuntimeError) -> DomainSummary {
        _ = try lookup(name)
        return summary(name)
    }

    public func info(name: String) throws(RuntimeError) -> DomainInfo {
        let record = try lookup(name)
        var pid: Int32?
        var accelerator: String?
        var channels: [ChannelConnection] = []
        var cpuTime: Double?
        if case .running(let guest) = record.lifecycle {
            let status = guest.snapshot
            pid = status.process.pid
            accelerator = status.accelerator
            channels = status.channels.sorted { $0.key < $1.key }.map { ChannelConnection(name: $0.key, connected: $0.value) }
            cpuTime = Self.cpuSeconds(pid: status.process.pid)
        }
        let domain = record.domain
        return DomainInfo(summary: summary(name), osType: domain.os.type, maxMemoryKiB: domain.memoryKiB,
                          usedMemoryKiB: domain.currentMemoryKiB, vcpus: domain.vcpus, cpuTimeSeconds: cpuTime,
                          persistent: record.persistent, autostart: false, pid: pid, accelerator: accelerator,
                          channels: channels)
    }

    /// `virsh dumpxml [--inactive]`: the live XML carries the runtime id, pty paths, generated
    /// socket paths and channel states.
    public func xml(name: String, inactive: Bool) throws(RuntimeError) -> String {
        let record = try lookup(name)
        guard !inactive, case .running(let guest) = record.lifecycle else {
            return DomainFormatter.format(record.domain)
        }
        let status = guest.snapshot
        return LiveXML.format(guest.domain, status: status,
                              paths: launcher.paths(id: status.id, name: name))
    }

    static func cpuSeconds(pid: Int32) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
