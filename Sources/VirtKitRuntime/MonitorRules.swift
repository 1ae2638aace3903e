import VirtKitHost

/// What a guest's monitor clients may do: who may connect over TCP (the daemon's user, root and
/// the socket group, as for the socket files), and whether commands that reach the host's files
/// and programs go through (monitor.conf's `allow_host_access`).
struct MonitorRules: Sendable {
    var tcpAccess = PeerAccess()
    var allowHostAccess = false
}
