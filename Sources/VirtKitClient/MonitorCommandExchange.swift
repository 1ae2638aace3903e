import VirtKitText
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// One command over a guest's monitor command channel (`virtkit qemu-monitor-command`): the
/// command line out, the answer read until virtkitd closes, printed on stdout.
public enum MonitorCommandExchange {
    /// Sends the command, prints the answer; false for a QMP error answer.
    public static func run(socket: FileDescriptor, command: String, hmp: Bool, pretty: Bool) throws -> Bool {
        _ = try socket.writeAll(Array((command + "\n").utf8))
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try socket.read(into: $0) }
            if n == 0 { break }
            answer += buffer[0..<n]
        }
        // HMP answers in QEMU's \r\n lines; a terminal or a pipe wants \n, and one at the end.
        // Bytes, not String and print: the first dynamic cast (print makes one) scans every
        // protocol conformance of the binary.
        var bytes = Array(answer.withoutCarriageReturnsBeforeNewlines.trimmingBlanks)
        if !hmp && pretty {
            bytes = Array(JSONIndenter.indent(String(decoding: bytes, as: UTF8.self)).trimmingBlanks.utf8)
        }
        try ByteRelay.writeAll(1, (bytes + [UInt8(ascii: "\n")])[...])
        return hmp || !bytes.starts(with: Array("{\"error\"".utf8))
    }
}

extension Array where Element == UInt8 {
    /// `\r\n` as `\n`.
    var withoutCarriageReturnsBeforeNewlines: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        for (i, byte) in enumerated() where !(byte == 0x0D && i + 1 < count && self[i + 1] == 0x0A) {
            out.append(byte)
        }
        return out
    }
}
