import Foundation
import SystemPackage
import VirtKitHost

/// Where a daemon keeps its networks: definitions and autostart marks in the state directory,
/// a running network's status and dnsmasq's files in the run directory, and the leases in the
/// state directory (they outlive a host reboot, as libvirt's do).
struct NetworkFiles: Sendable {
    let layout: RuntimeLayout

    var definitions: FilePath { layout.stateDirectory.appending("networks") }
    var autostart: FilePath { definitions.appending("autostart") }
    var leases: FilePath { definitions.appending("leases") }
    var run: FilePath { layout.runDirectory.appending("networks") }

    func definition(_ name: String) -> FilePath { definitions.appending(name + ".xml") }
    func autostartMark(_ name: String) -> FilePath { autostart.appending(name) }
    func status(_ name: String) -> FilePath { run.appending(name + ".json") }
    /// dnsmasq's conf, hosts files, pid file and output, one directory a network.
    func dnsmasqDirectory(_ name: String) -> FilePath { run.appending(name + ".d") }
    /// The lease file, named after the bridge as libvirt names its status file.
    func leaseFile(bridge: String) -> FilePath { leases.appending(bridge + ".leases") }

    /// The names of the saved definitions.
    func definedNames() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: definitions.string)) ?? [])
            .filter { $0.hasSuffix(".xml") && !$0.hasPrefix(".") }.map { String($0.dropLast(4)) }.sorted()
    }

    /// The names of the networks with a status file (running, or left by a killed daemon).
    func statusNames() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: run.string)) ?? [])
            .filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.map { String($0.dropLast(5)) }.sorted()
    }
}

/// What a running network holds, written when it has started, read back by the next daemon
/// to re-attach to it (or to clean up after it).
struct NetworkStatus: Codable, Sendable, Equatable {
    /// The live definition (with its bridge name and MAC decided).
    var xml: String
    var bridge: String
    /// Whether VirtKit made the bridge (and removes it).
    var ownsBridge: Bool
    /// The nftables table, when the network has rules.
    var table: String?
    var dnsmasq: ProcessIdentity?
    /// The network was defined only while running (`net-create`).
    var transient: Bool
    /// False while the start is under way: a daemon that finds such a status undoes what it
    /// records (nil in a status written before the field existed: complete).
    var complete: Bool?

    func write(to path: FilePath) throws(HostError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let data: Data
        do { data = try encoder.encode(self) } catch { throw HostError("cannot encode", path.string, .invalidArgument) }
        try AtomicFile.write(Array(data), to: path, durable: false)
    }

    static func read(_ path: FilePath) -> NetworkStatus? {
        guard let bytes = AtomicFile.read(path) else { return nil }
        return try? JSONDecoder().decode(NetworkStatus.self, from: Data(bytes))
    }
}
