import SystemPackage
import VirtKitHost

/// A chardev's or QEMU's log as the API answers it (`GET /v1/domains/{name}/log[/{device}]`).
enum LogFiles {
    /// The log's bytes (with its rotated files, oldest first, when asked); a log not written
    /// yet is empty, not an error.
    static func read(_ path: FilePath, withBackups: Bool) -> [UInt8] {
        var files: [FilePath] = []
        if withBackups {
            var index = 1
            while AtomicFile.read(FilePath(path.string + ".\(index)")) != nil, index < 1000 {
                files.insert(FilePath(path.string + ".\(index)"), at: 0)
                index += 1
            }
        }
        files.append(path)
        return files.flatMap { AtomicFile.read($0) ?? [] }
    }
}
