import Foundation
import Logging
import SystemPackage
import VirtKitDomain
import VirtKitHost
import VirtKitModel
import VirtKitMonitor
import VirtKitQMP
#if canImport(Glibc)
import Glibc
#endif

extension Hypervisor {
    /// Where the monitor channels of running guest `name` listen.
    public func monitorInfo(name: String) async throws(RuntimeError) -> MonitorInfo {
        let guest = try running(name)
        guard let served = await guest.monitorEndpoints() else {
            throw RuntimeError(.operationFailed, "operation failed: the monitor channels of domain '\(name)' are not available (see its log)")
        }
        var info = MonitorInfo(interactiveSocket: nil, commandSocket: nil, monitorPort: nil, commandPort: nil,
                               tcpAddresses: [], tcpDisabledReason: served.disabledReason)
        for endpoint in served.endpoints {
            switch (endpoint.channel, endpoint.address) {
            case (.interactive, .unix(let path)): info.interactiveSocket = path.string
            case (.command, .unix(let path)): info.commandSocket = path.string
            case (.interactive, .tcp(let host, let port)):
                info.monitorPort = port
                if !info.tcpAddresses.contains(host) { info.tcpAddresses.append(host) }
            case (.command, .tcp(_, let port)): info.commandPort = port
            }
        }
        return info
    }

    /// One monitor command of running guest `name` as its command channel takes it (an HMP
    /// line, or a QMP object on one line) and answers it (QEMU's text, or the QMP reply), under
    /// the monitor's policy, without a socket: libvirt's qemu-monitor-command.
    public func monitorCommand(name: String, line: String) async throws(RuntimeError) -> String {
        let guest = try running(name)
        guard let answer = await guest.monitorCommand(line) else {
            throw RuntimeError(.operationFailed, "operation failed: the monitor channels of domain '\(name)' are not available (see its log)")
        }
        return answer
    }

    nonisolated var monitorRules: MonitorRules {
        MonitorRules(tcpAccess: PeerAccess(group: socketGroup), allowHostAccess: monitorSettings.allowHostAccess)
    }

    /// Where a newly started guest's monitor listens on TCP: its metadata's port, else the next
    /// of monitor.conf's base (one more per running guest, ports in use skipped), or not at all.
    func monitorPlan(for domain: Domain) throws(RuntimeError) -> MonitorServer.TCPPlan {
        let own: VirtKitMonitorSettings?
        do { own = try domain.virtkitMonitor } catch { throw RuntimeError(.configUnsupported, error.message) }
        if own?.tcp == false || (own?.tcp == nil && !monitorSettings.tcp) { return .disabled }
        if let port = own?.port { return .fixed(monitorPort: port) }
        let running = records.values.filter { if case .running = $0.lifecycle { return true } else { return false } }.count
        return .automatic(base: monitorSettings.basePort, ordinal: running)
    }
}
