import CVirtKitHost
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// The host's network links that VirtKit makes and removes: bridges for its networks, taps for
/// its guests (rtnetlink and the tun driver, in `vk_netdev.c`), and the sysfs and procfs knobs
/// libvirt sets beside them.
public enum NetworkLink {
    /// Whether a link named `name` exists (in this network namespace).
    public static func exists(_ name: String) -> Bool {
        if_nametoindex(name) != 0
    }

    /// A new bridge; `EEXIST` when a link of that name exists already.
    public static func createBridge(_ name: String, mac: [UInt8], mtu: Int?) throws(HostError) {
        let rc = mac.withUnsafeBufferPointer { vk_bridge_create(name, $0.baseAddress, UInt32(clamping: mtu ?? 0)) }
        try check(rc, "cannot create bridge", name)
    }

    /// Removes link `name`.
    public static func delete(_ name: String) throws(HostError) {
        try check(vk_link_delete(name), "cannot delete link", name)
    }

    public static func setUp(_ name: String, _ up: Bool) throws(HostError) {
        try check(vk_link_set_up(name, up ? 1 : 0), up ? "cannot bring link up" : "cannot bring link down", name)
    }

    public static func setMTU(_ name: String, _ mtu: Int) throws(HostError) {
        try check(vk_link_set_mtu(name, UInt32(clamping: mtu)), "cannot set the MTU of link", name)
    }

    public static func setMAC(_ name: String, _ mac: [UInt8]) throws(HostError) {
        let rc = mac.withUnsafeBufferPointer { vk_link_set_mac(name, $0.baseAddress) }
        try check(rc, "cannot set the MAC address of link", name)
    }

    /// Makes `name` a port of `bridge`.
    public static func attach(_ name: String, to bridge: String) throws(HostError) {
        try check(vk_link_set_master(name, bridge), "cannot add link to bridge \(bridge)", name)
    }

    /// Adds an address (4 or 16 bytes) with its prefix to link `name`.
    public static func addAddress(_ name: String, bytes: [UInt8], prefix: Int) throws(HostError) {
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        let rc = bytes.withUnsafeBufferPointer { vk_address_add(name, family, $0.baseAddress, UInt32(clamping: prefix)) }
        try check(rc, "cannot add an address to link", name)
    }

    /// A tap, not persistent (it goes with its last descriptor): `name` may be a template with
    /// `%d`. Returns the descriptor and the kernel's name for it.
    public static func openTap(_ name: String, vnetHeader: Bool) throws(HostError) -> (FileDescriptor, String) {
        var actual = [CChar](repeating: 0, count: 32)
        let fd = vk_tap_open(name, vnetHeader ? 1 : 0, &actual)
        guard fd >= 0 else { throw HostError("cannot create tap", name, Errno(rawValue: -fd)) }
        return (FileDescriptor(rawValue: fd), String(decoding: actual.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    /// Writes `value` to a sysfs or procfs knob (`/sys/class/net/virbr0/bridge/stp_state`).
    public static func writeKnob(_ path: String, _ value: String) throws(HostError) {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw HostError("cannot open", path, Errno(rawValue: errno)) }
        defer { close(fd) }
        let bytes = Array(value.utf8)
        guard write(fd, bytes, bytes.count) == bytes.count else { throw HostError("cannot write", path, Errno(rawValue: errno)) }
    }

    /// The links enslaved to `bridge`, from sysfs.
    public static func ports(of bridge: String) -> [String] {
        guard let directory = opendir("/sys/class/net/\(bridge)/brif") else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    private static func check(_ rc: Int32, _ operation: String, _ subject: String) throws(HostError) {
        guard rc == 0 else { throw HostError(operation, subject, Errno(rawValue: rc)) }
    }
}
