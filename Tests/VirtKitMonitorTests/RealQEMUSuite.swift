import Testing
import VirtKitTestSupport

/// Every test that starts a real qemu-system-x86_64 (7.2, paused with `-S`, no kernel), one
/// at a time: they share the machine's two cores with builds and other suites.
@Suite("Monitor server against real QEMU", .tags(.qemu), .serialized, .timeLimit(.minutes(5)))
enum RealQEMU {}

/// The JSON lines in a QMP-mode client's output (the HMP banner's prompt stripped).
func jsonLines(_ text: String) -> [String] {
    text.components(separatedBy: "\r\n").compactMap { line in
        guard let brace = line.firstIndex(of: "{") else { return nil }
        return String(line[brace...])
    }
}

/// The events named in `text`, in order.
func eventNames(_ text: String) -> [String] {
    jsonLines(text).compactMap { line -> String? in
        guard let range = line.range(of: #""event":""#) else { return nil }
        return String(line[range.upperBound...].prefix { $0 != "\"" })
    }
}
