import Foundation
import Logging
import SystemPackage
import VirtKitHost
import VirtKitModel
import VirtKitQMP
#if canImport(Glibc)
import Glibc
#endif

/// Asks a QEMU binary what it offers, as libvirt's capabilities probe does: QEMU started with no
/// machine (`-machine none`, stopped) and its QMP monitor on a socket pair, then
/// `query-machines`, `query-cpu-definitions`, `query-kvm` and `query-target`. The answers are
/// kept per binary in the state directory and asked again only when the binary's size or
/// modification time changes, so a probe (tens of milliseconds) runs once per QEMU upgrade.
public actor QEMUCapabilitiesProbe {
    let cachePath: FilePath
    let logger: Logger
    private var known: [String: QEMUCapabilities]?
    /// At most this many binaries are remembered, so clients naming binaries cannot grow the cache.
    static let rememberedBinaries = 8

    public init(cachePath: FilePath, logger: Logger) {
        self.cachePath = cachePath
        self.logger = logger
    }

    /// What `emulator` (an absolute path) offers; probed now unless the cache still holds it.
    public func capabilities(emulator: String) async throws(RuntimeError) -> QEMUCapabilities {
        let (size, modified) = try Self.identify(emulator)
        var cache = known ?? loadCache()
        if let cached = cache[emulator], cached.binarySize == size, cached.binaryModified == modified {
            known = cache
            return cached
        }
        let probed = try await probe(emulator, size: size, modified: modified)
        if cache[emulator] == nil && cache.count >= Self.rememberedBinaries, let oldest = cache.keys.sorted().first {
            cache[oldest] = nil
        }
        cache[emulator] = probed
        known = cache
        if let data = try? JSONEncoder().encode(cache) { try? AtomicFile.write(Array(data), to: cachePath) }
        logger.info("QEMU capabilities: probed \(emulator): \(probed.machines.count) machine types, \(probed.cpuModels.count) CPU models")
        return probed
    }

    /// The binary's size and modification time, or libvirt's error for a binary that is not there.
    static func identify(_ emulator: String) throws(RuntimeError) -> (Int64, Int64) {
        guard emulator.hasPrefix("/") else {
            throw RuntimeError(.invalidArgument, "invalid argument: emulator '\(emulator)' is not an absolute path")
        }
        var info = stat()
        guard stat(emulator, &info) == 0 else {
            throw RuntimeError(.systemError, "Cannot check QEMU binary \(emulator): \(Errno(rawValue: errno))")
        }
        guard info.st_mode & S_IFMT == S_IFREG, access(emulator, X_OK) == 0 else {
            throw RuntimeError(.systemError, "Cannot check QEMU binary \(emulator): \(Errno.permissionDenied)")
        }
        return (Int64(info.st_size), Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec))
    }

    func loadCache() -> [String: QEMUCapabilities] {
        guard let bytes = AtomicFile.read(cachePath),
              let cache = try? JSONDecoder().decode([String: QEMUCapabilities].self, from: Data(bytes)) else { return [:] }
        return cache
    }

    func probe(_ emulator: String, size: Int64, modified: Int64) async throws(RuntimeError) -> QEMUCapabilities {
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw RuntimeError(.systemError, "cannot create a socket pair to probe \(emulator): \(Errno(rawValue: errno))")
        }
        let qemuEnd = FileDescriptor(rawValue: pair[1])
        let arguments = [emulator, "-machine", "none", "-accel", "tcg", "-S", "-nodefaults", "-no-user-config",
                         "-display", "none", "-chardev", "socket,id=qmp,fd=3,server=off",
                         "-mon", "chardev=qmp,mode=control"]
        let identity: ProcessIdentity
        do {
            defer { try? qemuEnd.close() }
            let devNull = try FileDescriptor.open("/dev/null", .writeOnly, options: [.closeOnExec])
            defer { try? devNull.close() }
            let pid = try ProcessSpawner.spawn(executable: FilePath(emulator), arguments: arguments, environment: ["LC_ALL": "C"],
                                               output: devNull, placements: [.init(source: qemuEnd, target: 3)])
            guard let found = ProcessIdentity.of(pid: pid) else {
                _ = ProcessExitWatcher.reap(pid)
                throw RuntimeError(.internalError, "internal error: QEMU \(emulator) exited at once while being probed")
            }
            identity = found
        } catch let error as RuntimeError {
            close(pair[0])
            throw error
        } catch {
            close(pair[0])
            throw RuntimeError(.internalError, "internal error: Failed to probe QEMU binary with QMP: \(error)", cause: error)
        }
        do {
            let client = try await QMP.Client.connect(connectedSocket: pair[0], timeout: .seconds(30))
            let answers = try await Self.query(client)
            _ = try? await client.execute("quit", timeout: .seconds(5))
            await client.close()
            _ = await ProcessExitWatcher.waitForExit(identity)
            return try Self.capabilities(emulator: emulator, size: size, modified: modified, answers: answers)
        } catch {
            identity.send(signal: SIGKILL)
            _ = await ProcessExitWatcher.waitForExit(identity)
            throw RuntimeError(.internalError, "internal error: Failed to probe QEMU binary with QMP: \(error)", cause: error)
        }
    }

    /// The QMP answers a probe reads.
    struct Answers {
        var version: QMP.Version
        var target: QMP.Value
        var machines: QMP.Value
        var cpus: QMP.Value
        var kvm: QMP.Value
    }

    static func query(_ client: QMP.Client) async throws(QMP.Error) -> Answers {
        Answers(version: client.greeting.version,
                target: try await client.execute("query-target"),
                machines: try await client.execute("query-machines"),
                cpus: try await client.execute("query-cpu-definitions"),
                kvm: try await client.execute("query-kvm"))
    }

    static func capabilities(emulator: String, size: Int64, modified: Int64,
                             answers: Answers) throws(RuntimeError) -> QEMUCapabilities {
        guard let arch = answers.target["arch"]?.string, let machineList = answers.machines.array,
              let cpuList = answers.cpus.array else {
            throw RuntimeError(.internalError, "internal error: QEMU \(emulator) answered its capability queries in an unexpected form")
        }
        let machines = machineList.compactMap { machine -> QEMUCapabilities.Machine? in
            guard let name = machine["name"]?.string, name != "none" else { return nil }
            return .init(name: name, alias: machine["alias"]?.string, maxCPUs: machine["cpu-max"]?.int ?? 1,
                         deprecated: machine["deprecated"]?.bool ?? false, isDefault: machine["is-default"]?.bool ?? false)
        }
        let cpus = cpuList.compactMap { model -> QEMUCapabilities.CPUModel? in
            guard let name = model["name"]?.string else { return nil }
            return .init(name: name, usable: model["unavailable-features"]?.array?.isEmpty ?? true,
                         deprecated: model["deprecated"]?.bool ?? false)
        }
        let version = answers.version
        return QEMUCapabilities(emulator: emulator, binarySize: size, binaryModified: modified,
                                version: UInt64(version.major) * 1_000_000 + UInt64(version.minor) * 1_000 + UInt64(version.micro),
                                arch: arch, machines: machines, cpuModels: cpus,
                                kvmPresent: answers.kvm["present"]?.bool ?? false)
    }
}
