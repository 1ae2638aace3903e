import Foundation
import Logging
import SystemPackage
import VirtKitModel
import VirtKitDomain
import VirtKitHost
import VirtKitMonitor
import VirtKitQMP
#if canImport(Glibc)
import Glibc
#endif

/// The daemon's domains: their definitions on disk and, for running ones, their QEMU.
///
/// An actor: every domain's record is read and changed on its executor only. Operations that wait
/// (a start's QMP set-up, a stop ladder) leave the record in a transitional state (`starting`,
/// `stopping` in the guest's status) so a concurrent call sees it and is refused.
public actor Hypervisor {
    /// A domain's life: one case per state, each holding that state's resources.
    enum Lifecycle {
        case shutoff(DomainStateReason)
        case starting
        case running(RunningGuest)
    }

    struct Record {
        /// The inactive definition (what `dumpxml --inactive` shows).
        var domain: Domain
        var persistent: Bool
        var lifecycle: Lifecycle
        /// `virsh autostart`: started when the host boots.
        var autostart = false
    }

    let layout: RuntimeLayout
    let logger: Logger
    let accelerators: AcceleratorProbe
    /// What each QEMU binary offers, for libvirt's capabilities XML.
    let qemuProbe: QEMUCapabilitiesProbe
    let monitorSettings: MonitorSettings
    /// console.conf: log rotation and scrollback of the console brokers.
    let consoleSettings: ConsoleSettings
    /// `--socket-group`: the group guest sockets (and the API socket) are shared with, 0660.
    let socketGroup: gid_t?
    var records: [String: Record] = [:]
    /// The virtual networks guests' `<interface type='network'>` plug into.
    public nonisolated let networks: Networks
    var nextID = 1
    /// The streams of ``events()``.
    var eventSubscribers: [UUID: AsyncStream<DomainEvent>.Continuation] = [:]

    public init(layout: RuntimeLayout, logger: Logger, accelerators: AcceleratorProbe,
                monitorSettings: MonitorSettings = MonitorSettings(), consoleSettings: ConsoleSettings = ConsoleSettings(),
                socketGroup: gid_t? = nil) {
        self.consoleSettings = consoleSettings
        self.socketGroup = socketGroup
        self.layout = layout
        self.logger = logger
        self.accelerators = accelerators
        self.monitorSettings = monitorSettings
        networks = Networks(layout: layout, logger: logger)
        qemuProbe = QEMUCapabilitiesProbe(cachePath: layout.stateDirectory.appending("qemu-capabilities.json"), logger: logger)
    }

    nonisolated var launcher: GuestLauncher {
        GuestLauncher(layout: layout, logger: logger, socketGroup: socketGroup, consoleSettings: consoleSettings,
                      monitorRules: monitorRules)
    }


    func setLifecycle(_ name: String, _ lifecycle: Lifecycle) {
        records[name]?.lifecycle = lifecycle
    }

    static func list(_ directory: FilePath) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: directory.string))?.sorted() ?? []
    }
}

// MARK: - Queries

extension Hypervisor {
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
                          persistent: record.persistent, autostart: record.autostart, pid: pid, accelerator: accelerator,
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

    /// QEMU's CPU time from /proc/PID/stat (utime + stime), read with one open and read: it is
    /// asked on every `dominfo` and libvirt `info` call.
    static func cpuSeconds(pid: Int32) -> Double? {
        guard let stat = AtomicFile.read(FilePath("/proc/\(pid)/stat")),
              let close = stat.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        // Fields after the command name: state is the first, utime the 12th, stime the 13th.
        let fields = stat[(close + 1)...].split(separator: UInt8(ascii: " "))
        guard fields.count > 12, let user = UInt64(String(decoding: fields[11], as: UTF8.self)),
              let system = UInt64(String(decoding: fields[12], as: UTF8.self)) else { return nil }
        return Double(user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    func running(_ name: String) throws(RuntimeError) -> RunningGuest {
        let record = try lookup(name)
        guard case .running(let guest) = record.lifecycle else {
            throw RuntimeError(.operationInvalid, "Requested operation is not valid: domain is not running")
        }
        return guest
    }
}
