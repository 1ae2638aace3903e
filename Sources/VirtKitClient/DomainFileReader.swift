#if canImport(Glibc)
import Glibc
#endif

/// Reads a domain XML file (or standard input for "-"), and writes the CLI's lines on stderr,
/// without Foundation: the front executable serves `define` with it.
public enum DomainFileReader {
    public struct ReadError: Error, CustomStringConvertible {
        public var description: String
    }

    public static func read(_ path: String) throws(ReadError) -> String {
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

    public static func printLine(toStderr text: String) {
        printRaw(toStderr: text + "\n")
    }

    public static func printRaw(toStderr text: String) {
        var text = text
        text.withUTF8 { buffer in _ = write(2, buffer.baseAddress, buffer.count) }
    }
}
