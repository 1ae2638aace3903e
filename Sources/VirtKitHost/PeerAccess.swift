#if canImport(Glibc)
import Glibc
#endif

/// Who may use what a daemon serves: the user it runs as, root, and the members of its socket
/// group when it has one (the same users its 0600/0660 socket files let in).
public struct PeerAccess: Sendable, Equatable {
    /// The daemon's own user.
    public var ownerUID: uid_t
    /// The group its sockets are shared with, nil for none.
    public var group: gid_t?

    public init(ownerUID: uid_t = geteuid(), group: gid_t? = nil) {
        self.ownerUID = ownerUID
        self.group = group
    }

    /// Whether `uid` may connect. Group membership is the user database's (primary group or
    /// supplementary groups), read at the time of the call.
    public func permits(uid: uid_t) -> Bool {
        if uid == 0 || uid == ownerUID { return true }
        guard let group else { return false }
        return Self.groups(of: uid).contains(group)
    }

    /// The groups `uid` belongs to, primary first; empty for a uid the user database does not know.
    public static func groups(of uid: uid_t) -> [gid_t] {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16 * 1024)
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, result != nil, let name = entry.pw_name else {
            return []
        }
        var count: Int32 = 64
        while true {
            var groups = [gid_t](repeating: 0, count: Int(count))
            let previous = count
            if getgrouplist(name, entry.pw_gid, &groups, &count) >= 0 {
                return Array(groups.prefix(Int(count)))
            }
            // Too small: count now holds the number needed.
            if count <= previous { count = previous * 2 }
        }
    }
}
