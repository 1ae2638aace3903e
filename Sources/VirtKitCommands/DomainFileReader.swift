import VirtKitDomain

#if canImport(Glibc)
import Glibc
#endif

/// Reads a domain XML file (or standard input for "-") for the offline verbs.
enum DomainFileReader {
    struct ReadError: Error, CustomStringConvertible {
        var description: String
    }

    static func read(_ path: String) throws -> String {
        let fd: Int32 = path == "-" ? 0 : open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            throw ReadError(description: "failed to open '\(path)': \(String(cString: strerror(errno)))")
        }
        defer { if fd != 0 { close(fd) } }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ReadError(description: "failed to read '\(path)': \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
            if bytes.count > 16 << 20 { throw ReadError(description: "'\(path)' is larger than 16 MiB") }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func printLine(toStderr text: String) {
        printRaw(toStderr: text + "\n")
    }

    static func printRaw(toStderr text: String) {
        var text = text
        text.withUTF8 { buffer in _ = write(2, buffer.baseAddress, buffer.count) }
    }

    /// Print an error as virsh does ("error: ...") on stderr.
    static func printError(_ error: Error) {
        let text: String
        if let domainError = error as? DomainError { text = domainError.message } else { text = "\(error)" }
        printLine(toStderr: "error: " + text)
    }
}
