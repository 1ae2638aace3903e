import SystemPackage

/// The host's IPv4 routes, from /proc/net/route, for libvirt's check that a new network does not
/// take a subnet the host already routes (`networkCheckRouteCollision`).
public enum HostRoutes {
    /// The interface with a route to exactly the network `network` (4 bytes) of `prefix` bits,
    /// or nil.
    public static func interface(routing network: [UInt8], prefix: Int) -> String? {
        guard network.count == 4, let bytes = AtomicFile.read("/proc/net/route") else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        let mask: UInt32 = prefix == 0 ? 0 : UInt32.max << UInt32(32 - prefix)
        let wanted = (UInt32(network[0]) << 24 | UInt32(network[1]) << 16 | UInt32(network[2]) << 8 | UInt32(network[3])) & mask
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            // Iface Destination Gateway Flags RefCnt Use Metric Mask: addresses in host order hex.
            guard fields.count >= 8, let destination = UInt32(fields[1], radix: 16), let routeMask = UInt32(fields[7], radix: 16) else { continue }
            // The kernel prints the address as the number its network-order bytes make in memory.
            let dest = UInt32(bigEndian: destination)
            let m = UInt32(bigEndian: routeMask)
            if dest == wanted && m == mask && mask != 0 { return String(fields[0]) }
        }
        return nil
    }
}
