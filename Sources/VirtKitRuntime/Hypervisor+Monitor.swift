import VirtKitModel
import VirtKitMonitor

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
}
