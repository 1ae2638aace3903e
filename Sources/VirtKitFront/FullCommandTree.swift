import VirtKitClient
#if canImport(Glibc)
import Glibc
#endif

/// The full command tree, `virtkit-cli` beside the `virtkit` executable: every verb and form the
/// front does not serve is handed to it by exec, with the same arguments.
public enum FullCommandTree {
    public static let executableName = "virtkit-cli"

    /// Replaces this process with `virtkit-cli ARGUMENTS`; returns only to exit 1 with a message.
    public static func exec(program: String, _ arguments: [String]) -> Never {
        let path = besideSelf()
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        execv(path, argv)
        let reason = String(cString: strerror(errno))
        DomainFileReader.printLine(toStderr: "error: cannot run \(path): \(reason)")
        exit(1)
    }

    /// The path of `virtkit-cli` in the directory of this executable (symlinks resolved).
    static func besideSelf() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return executableName }
        let own = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let slash = own.lastIndex(of: "/") else { return executableName }
        return String(own[...slash]) + executableName
    }
}
