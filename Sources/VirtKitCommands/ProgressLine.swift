#if canImport(Glibc)
import Glibc
#endif
import VirtKitClient

/// A waiting verb's progress on stderr: one line rewritten in place on a terminal, a new line
/// every 5 s otherwise (a log keeps a few, not hundreds).
struct ProgressLine {
    let interactive = isatty(2) != 0
    private var lastShown: Int?

    mutating func show(_ line: String, seconds: Int) {
        if interactive {
            DomainFileReader.printRaw(toStderr: "\r\u{1B}[K" + line)
        } else if lastShown.map({ $0 / 5 != seconds / 5 }) ?? true {
            DomainFileReader.printLine(toStderr: line)
        }
        lastShown = seconds
    }

    /// Ends the rewritten line on a terminal.
    func finish() {
        if interactive && lastShown != nil { DomainFileReader.printRaw(toStderr: "\n") }
    }
}
