import CVirtKitHost
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// The user on the other end of a TCP connection accepted on loopback. TCP carries no
/// credentials, but both ends of a loopback connection are sockets of this host, so the kernel
/// knows who owns the peer's socket: sock_diag looks it up by the connection's four-tuple.
public enum LoopbackPeer {
    /// The uid owning the peer socket of the accepted connection whose own address is `local`
    /// and whose peer's is `remote` (both IPv4 or both IPv6).
    /// - Throws: ``HostError`` with ENOENT when the kernel has no such socket here (the peer
    ///   closed already, or it is not on this host), EAFNOSUPPORT for another family.
    public static func uid(local: UnsafePointer<sockaddr>, remote: UnsafePointer<sockaddr>) throws(HostError) -> uid_t {
        var uid: UInt32 = 0
        let failure = vk_tcp_peer_uid(local, remote, &uid)
        guard failure == 0 else { throw HostError("cannot find the owner of TCP peer", "sock_diag", Errno(rawValue: failure)) }
        return uid
    }
}
