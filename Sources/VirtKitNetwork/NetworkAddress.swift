#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 address as bytes, parsed and written by the C library's `inet_pton` and
/// `inet_ntop` (what libvirt uses), with the prefix arithmetic a network's `<ip>` needs.
public struct NetworkAddress: Sendable, Hashable, CustomStringConvertible {
    public enum Family: String, Sendable { case ipv4, ipv6 }

    /// 4 or 16 bytes, network order.
    public let bytes: [UInt8]

    public var family: Family { bytes.count == 4 ? .ipv4 : .ipv6 }
    /// The prefix length of the whole address: 32 or 128.
    public var width: Int { bytes.count * 8 }

    public init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        bytes = withUnsafeBytes(of: &v6) { Array($0) }
    }

    public init(bytes: [UInt8]) {
        precondition(bytes.count == 4 || bytes.count == 16, "an address is 4 or 16 bytes")
        self.bytes = bytes
    }

    public var description: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        bytes.withUnsafeBytes { raw in
            _ = inet_ntop(family == .ipv4 ? AF_INET : AF_INET6, raw.baseAddress, &text, socklen_t(text.count))
        }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The prefix length of a netmask (`255.255.255.0` is 24); nil when its ones are not contiguous.
    public var netmaskPrefix: Int? {
        var prefix = 0
        var ended = false
        for byte in bytes {
            for bit in (0..<8).reversed() {
                let one = byte & (1 << bit) != 0
                if one && ended { return nil }
                if one { prefix += 1 } else { ended = true }
            }
        }
        return prefix
    }

    /// The netmask of `prefix` bits in this address's family.
    public func netmask(prefix: Int) -> NetworkAddress {
        NetworkAddress(bytes: (0..<bytes.count).map { i in
            let bits = max(0, min(8, prefix - i * 8))
            return bits == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
        })
    }

    /// The address with its host bits (after `prefix`) cleared: the network's address.
    public func masked(prefix: Int) -> NetworkAddress {
        let mask = netmask(prefix: prefix).bytes
        return NetworkAddress(bytes: zip(bytes, mask).map { $0 & $1 })
    }

    /// The last address of the network of `prefix` bits (IPv4's broadcast address).
    public func lastAddress(prefix: Int) -> NetworkAddress {
        let mask = netmask(prefix: prefix).bytes
        return NetworkAddress(bytes: zip(bytes, mask).map { $0 | ~$1 })
    }

    /// Whether `other` is in this address's network of `prefix` bits.
    public func contains(_ other: NetworkAddress, prefix: Int) -> Bool {
        other.family == family && other.masked(prefix: prefix) == masked(prefix: prefix)
    }

    /// How many addresses lie from `self` to `other`, both included; nil when `other` is
    /// before `self`, or the count does not fit (a huge IPv6 range).
    public func count(to other: NetworkAddress) -> Int? {
        guard other.family == family else { return nil }
        var difference: [Int] = []
        var borrow = 0
        for (a, b) in zip(other.bytes, bytes).reversed() {
            var value = Int(a) - Int(b) - borrow
            borrow = value < 0 ? 1 : 0
            if value < 0 { value += 256 }
            difference.insert(value, at: 0)
        }
        guard borrow == 0 else { return nil }
        var total = 0
        for byte in difference {
            guard total < (Int.max >> 9) else { return nil }
            total = total * 256 + byte
        }
        return total + 1
    }

    /// Whether this address sorts after `other` (same family).
    public func isAfter(_ other: NetworkAddress) -> Bool {
        bytes.lexicographicallyPrecedes(other.bytes) == false && bytes != other.bytes
    }
}
