import Logging
import NIOCore
import SystemPackage
import VirtKitHost
#if canImport(Glibc)
import Glibc
#endif

/// The owner check for a TCP monitor client, made when the connection is accepted.
enum TCPPeerCheck {
    /// Why the client on `child` may not connect (logged), nil when its socket's owner is
    /// among `access`'s users.
    static func refusal(of child: Channel, access: PeerAccess, hub: MonitorHub, channel: MonitorChannel) -> String? {
        let peer = child.remoteAddress.map { "\($0)" } ?? "unknown"
        let uid: uid_t
        do {
            guard let local = child.localAddress, let remote = child.remoteAddress else {
                throw HostError("cannot find the owner of TCP peer", peer, .socketNotConnected)
            }
            uid = try local.withSockAddr { local, _ in
                try remote.withSockAddr { remote, _ in try LoopbackPeer.uid(local: local, remote: remote) }
            }
        } catch {
            hub.logger.warning("monitor client refused: its owner is unknown", metadata: [
                "guest": "\(hub.configuration.guestName)", "channel": "\(channel)", "peer": "\(peer)", "error": "\(error)",
            ])
            return "access denied: cannot tell which user is connecting, so the monitor is not served"
        }
        if access.permits(uid: uid) { return nil }
        hub.logger.warning("monitor client refused: not the guest's owner", metadata: [
            "guest": "\(hub.configuration.guestName)", "channel": "\(channel)", "peer": "\(peer)", "uid": "\(uid)",
        ])
        return "access denied: uid \(uid) may not use the monitor of guest '\(hub.configuration.guestName)'"
    }
}
