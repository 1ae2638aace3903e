#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import SystemPackage

/// Finds a MONPORT/CTLPORT pair that binds on every loopback address and returns its
/// listeners, qemu-init's way: the pair is free when all of its sockets bind (127.0.0.1,
/// and ::1 where the host has IPv6 loopback), so allocation is race-free against anyone else
/// binding; when one fails the others are closed and the next MONPORT is tried.
///
/// IPv6 loopback is detected by the first bind on ::1: EADDRNOTAVAIL or EAFNOSUPPORT means
/// the host has none, and TCP carries on with 127.0.0.1 alone.
struct TCPPortAllocator {
    /// The addresses, in order; the second only where available.
    static let ipv4Loopback = "127.0.0.1"
    static let ipv6Loopback = "::1"

    /// What allocation produced.
    struct Allocation {
        var listeners: [(endpoint: MonitorEndpoint, channel: Channel)] = []
        var ports: (monitor: Int, command: Int)?
        var disabledReason: String?
    }

    /// Binds a listener for `channel` on `host` and `port`, or returns the errno.
    typealias Bind = (MonitorChannel, String, Int) async -> Result<Channel, Errno>

    let plan: MonitorServer.TCPPlan
    let maxAttempts: Int
    let bind: Bind

    private var ipv6: Bool?

    init(plan: MonitorServer.TCPPlan, maxAttempts: Int, bind: @escaping Bind) {
        self.plan = plan
        self.maxAttempts = maxAttempts
        self.bind = bind
    }

    /// Tries the plan's ports in order.
    mutating func allocate() async -> Allocation {
        let offset = MonitorServer.Configuration.commandPortOffset
        let highest = MonitorServer.Configuration.highestMonitorPort
        let first: Int
        let last: Int
        switch plan {
        case .disabled:
            return Allocation(disabledReason: "TCP is disabled for this guest")
        case .automatic(let base, let ordinal):
            first = base + ordinal
            last = min(highest, first + maxAttempts - 1)
        case .fixed(let port):
            first = port
            last = port
        }
        guard first >= 1 else {
            return Allocation(disabledReason: "monitor port \(first) is out of range")
        }
        guard first <= highest else {
            return Allocation(
                disabledReason: "no free port pair from \(first): the command port \(first + offset) would pass 65535")
        }
        var lastFailure = ""
        for port in first...last {
            switch await bindPair(monitorPort: port) {
            case .success(let listeners):
                return Allocation(listeners: listeners, ports: (port, port + offset))
            case .failure(let failure):
                lastFailure = failure.message
            }
        }
        if first == last {
            return Allocation(disabledReason: "ports \(first) and \(first + offset) cannot be bound (\(lastFailure))")
        }
        return Allocation(disabledReason: "no free port pair from \(first) to \(last) (last: \(lastFailure))")
    }

    private struct PairFailure: Error {
        var message: String
    }

    private mutating func bindPair(
        monitorPort: Int
    ) async -> Result<[(endpoint: MonitorEndpoint, channel: Channel)], PairFailure> {
        var bound: [(endpoint: MonitorEndpoint, channel: Channel)] = []
        let ports: [(MonitorChannel, Int)] = [
            (.interactive, monitorPort), (.command, monitorPort + MonitorServer.Configuration.commandPortOffset),
        ]
        hosts: for host in [Self.ipv4Loopback, Self.ipv6Loopback] {
            if host == Self.ipv6Loopback, ipv6 == false { continue }
            for (channel, port) in ports {
                switch await bind(channel, host, port) {
                case .success(let listener):
                    bound.append((MonitorEndpoint(channel: channel, address: .tcp(host: host, port: port)), listener))
                case .failure(let errno):
                    let noIPv6 = errno == .addressNotAvailable || errno == .addressFamilyNotSupported
                    if host == Self.ipv6Loopback, ipv6 == nil, noIPv6 {
                        ipv6 = false
                        continue hosts
                    }
                    for (_, listener) in bound { try? await listener.close() }
                    return .failure(PairFailure(message: "port \(port) on \(host): \(errno)"))
                }
            }
            if host == Self.ipv6Loopback { ipv6 = true }
        }
        return .success(bound)
    }
}
