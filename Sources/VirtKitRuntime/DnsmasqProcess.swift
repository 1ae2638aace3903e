import Foundation
import Logging
import SystemPackage
import VirtKitHost
import VirtKitNetwork
#if canImport(Glibc)
import Glibc
#endif

/// A network's dnsmasq: its files written, started in the foreground in a session of its own
/// (so it outlives a daemon restart, like QEMU), known by its identity (pid and start time).
struct DnsmasqProcess: Sendable {
    let files: NetworkFiles
    let logger: Logger

    /// Writes the configuration and starts dnsmasq; returns once it has written its pid file (it
    /// is serving), or throws with what it printed when it exits first.
    func start(_ network: Network, bridge: String) async throws(RuntimeError) -> ProcessIdentity {
        let directory = files.dnsmasqDirectory(network.name)
        let pidFile = directory.appending("dnsmasq.pid")
        let paths = DnsmasqConfiguration.Paths(hostsFile: directory.appending("hostsfile").string,
                                               addnHostsFile: directory.appending("addnhosts").string, pidFile: pidFile.string)
        guard let configuration = DnsmasqConfiguration.make(network, paths: paths) else {
            throw RuntimeError(.internalError, "internal error: network '\(network.name)' has no bridge for dnsmasq")
        }
        let confPath = directory.appending("dnsmasq.conf")
        let logPath = directory.appending("dnsmasq.log")
        let log: FileDescriptor
        do {
            AtomicFile.removeTree(directory)
            // dnsmasq reads its hosts files again as an unprivileged user (on SIGHUP).
            try AtomicFile.makeDirectory(directory, permissions: [.ownerReadWriteExecute, .otherExecute, .groupExecute])
            try AtomicFile.makeDirectory(files.leases)
            try AtomicFile.write(Array(configuration.conf.utf8), to: confPath, durable: false)
            try AtomicFile.write(Array(configuration.hostsFile.utf8), to: FilePath(paths.hostsFile), permissions: [.ownerReadWrite, .otherRead, .groupRead], durable: false)
            try AtomicFile.write(Array(configuration.addnHosts.utf8), to: FilePath(paths.addnHostsFile), permissions: [.ownerReadWrite, .otherRead, .groupRead], durable: false)
            log = try FileDescriptor.open(logPath, .writeOnly, options: [.create, .truncate, .closeOnExec], permissions: [.ownerReadWrite])
        } catch {
            throw RuntimeError(.systemError, "cannot write the dnsmasq files of network '\(network.name)': \(error)", cause: error)
        }
        defer { try? log.close() }
        let arguments = ["dnsmasq", "--conf-file=" + confPath.string, "--keep-in-foreground",
                         "--dhcp-leasefile=" + files.leaseFile(bridge: bridge).string]
        let pid: pid_t
        do {
            pid = try ProcessSpawner.spawn(executable: NetworkStarter.dnsmasq, arguments: arguments,
                                           environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"], output: log, placements: [])
        } catch {
            throw RuntimeError(.systemError, "cannot start dnsmasq for network '\(network.name)': \(error)", cause: error)
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if let written = AtomicFile.read(pidFile).flatMap({ Int32(String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) }),
               written == pid, let identity = ProcessIdentity.of(pid: pid) {
                // Reaped when it ends, whenever that is, so it never lingers as a zombie.
                Task.detached { _ = await ProcessExitWatcher.waitForExit(identity) }
                return identity
            }
            if ProcessExitWatcher.reap(pid) != nil { break }
            try? await Task.sleep(for: .milliseconds(20))
        }
        if let identity = ProcessIdentity.of(pid: pid) { await Self.stop(identity) }
        let said = String(decoding: AtomicFile.read(logPath) ?? [], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        throw RuntimeError(.operationFailed, "operation failed: dnsmasq did not start for network '\(network.name)': \(said.isEmpty ? "no answer in 10 s" : said)")
    }

    /// SIGTERM, then SIGKILL after a second.
    static func stop(_ process: ProcessIdentity) async {
        guard process.send(signal: SIGTERM) else { return }
        let deadline = ContinuousClock.now + .seconds(1)
        while process.isAlive, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(10)) }
        if process.isAlive { process.send(signal: SIGKILL) }
        ProcessExitWatcher.reap(process.pid)
    }
}
