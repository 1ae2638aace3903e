import CVirtKitHost
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// Starts processes the way QEMU must be started: argv only (no shell), in a session of its own
/// so it outlives the daemon and its signals, with chosen descriptors placed at chosen numbers and
/// every other descriptor closed.
///
/// swift-subprocess and Foundation's `Process` close every descriptor above 2, so this goes to
/// `posix_spawn` directly (glibc's `addclosefrom_np` and `POSIX_SPAWN_SETSID`).
public enum ProcessSpawner {
    /// One descriptor to hand the child: `source` in this process appears as `target` in it.
    public struct Placement: Sendable, Equatable {
        public var source: FileDescriptor
        public var target: Int32
        public init(source: FileDescriptor, target: Int32) {
            self.source = source
            self.target = target
        }
    }

    /// Spawns `executable` with `arguments` (argv[0] included), stdout and stderr on `output`,
    /// stdin on /dev/null. Returns the child's pid. The caller keeps (and closes) its descriptors.
    public static func spawn(executable: FilePath, arguments: [String], environment: [String: String],
                             output: FileDescriptor, placements: [Placement]) throws(HostError) -> pid_t {
        let envStrings = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let rc = withCStrings(arguments) { argv in
            withCStrings(envStrings) { envp in
                executable.withPlatformString { path in
                    let sources = placements.map(\.source.rawValue)
                    let targets = placements.map(\.target)
                    return vk_spawn(path, argv, envp, output.rawValue, sources, targets,
                                    Int32(placements.count), &pid)
                }
            }
        }
        if rc != 0 { throw HostError("cannot execute binary", executable.string, Errno(rawValue: rc)) }
        return pid
    }

    /// A NULL-terminated `char *[]` for the duration of `body`.
    static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>?) -> R) -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { for p in pointers { free(p) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}
