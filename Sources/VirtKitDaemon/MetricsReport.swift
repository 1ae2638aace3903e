import Prometheus
import VirtKitModel
import VirtKitRuntime

/// `GET /metrics`: the runtime's state in Prometheus' text format, made at each scrape in a
/// registry of its own (so a domain that is gone leaves no series behind). Counters carry the
/// totals the runtime keeps (CPU time from /proc, bytes from the brokers).
enum MetricsReport {
    static func render(_ hypervisor: Hypervisor) async -> String {
        let registry = PrometheusCollectorRegistry()
        let domains = await hypervisor.list(all: true)
        var byState: [String: Int] = [:]
        for state in [DomainState.running, .paused, .shutoff, .crashed, .starting, .inShutdown] { byState[state.rawValue] = 0 }
        for summary in domains {
            byState[summary.state.rawValue, default: 0] += 1
            let labels = [("domain", summary.name)]
            registry.makeGauge(name: "virtkit_domain_running", labels: labels,
                               help: "Whether the domain's QEMU runs (1) or not (0).").set(Int64(summary.id == nil ? 0 : 1))
            guard let info = try? await hypervisor.info(name: summary.name) else { continue }
            registry.makeGauge(name: "virtkit_domain_vcpus", labels: labels, help: "The domain's virtual CPUs.")
                .set(Int64(info.vcpus))
            registry.makeGauge(name: "virtkit_domain_memory_bytes", labels: labels, help: "The domain's memory.")
                .set(Int64(clamping: info.maxMemoryKiB * 1024))
            guard summary.id != nil else { continue }
            if let seconds = info.cpuTimeSeconds {
                registry.makeCounter(name: "virtkit_domain_cpu_seconds_total", labels: labels,
                                     help: "CPU time QEMU has used since it started.").increment(by: seconds)
            }
            let agent = info.channels.first { $0.name == "org.qemu.guest_agent.0" }
            registry.makeGauge(name: "virtkit_domain_agent_connected", labels: labels,
                               help: "Whether the guest agent holds its channel open (no channel: 0).").set(Int64(agent?.connected == true ? 1 : 0))
            for chardev in (try? await hypervisor.chardevs(name: summary.name)) ?? [] {
                chardevMetrics(chardev, domain: summary.name, into: registry)
            }
        }
        for (state, count) in byState.sorted(by: { $0.key < $1.key }) {
            registry.makeGauge(name: "virtkit_domains", labels: [("state", state)], help: "Domains by state.").set(Int64(count))
        }
        return registry.emitToString()
    }

    static func chardevMetrics(_ chardev: ChardevInfo, domain: String, into registry: PrometheusCollectorRegistry) {
        let labels = [("domain", domain), ("chardev", chardev.alias)]
        registry.makeCounter(name: "virtkit_chardev_bytes_from_guest_total", labels: labels,
                             help: "Bytes the guest wrote to the chardev.").increment(by: Int64(chardev.bytesFromGuest))
        registry.makeCounter(name: "virtkit_chardev_bytes_to_guest_total", labels: labels,
                             help: "Bytes clients sent to the guest.").increment(by: Int64(chardev.bytesToGuest))
        registry.makeGauge(name: "virtkit_chardev_clients", labels: labels, help: "Clients attached.").set(Int64(chardev.clients))
        registry.makeCounter(name: "virtkit_chardev_log_bytes_lost_total", labels: labels,
                             help: "Bytes the chardev's log could not write.").increment(by: Int64(chardev.logBytesLost))
    }
}
