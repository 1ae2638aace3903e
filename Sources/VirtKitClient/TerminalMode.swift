#if canImport(Glibc)
import Glibc
#endif

/// Standard input's terminal settings while a console or monitor runs, restored on exit.
public struct TerminalMode {
    let saved: termios
    /// Raw mode drops typed-ahead input on restore (it was meant for the guest).
    let flushOnRestore: Bool

    /// Raw mode, for a console: every key goes to the guest. nil when standard input is not a
    /// terminal.
    public static func raw() -> TerminalMode? {
        change(flushOnRestore: true) { cfmakeraw(&$0) }
    }

    /// Canonical (line-edited) input with echo, plus `escape` as an extra end-of-line character
    /// so that it is seen at once, for the monitor. nil when standard input is not a terminal.
    public static func lineEditing(escape: UInt8) -> TerminalMode? {
        change(flushOnRestore: false) { settings in
            settings.c_lflag |= tcflag_t(ICANON | ECHO)
            withUnsafeMutableBytes(of: &settings.c_cc) { $0[Int(VEOL)] = escape }
        }
    }

    public func restore() {
        var saved = self.saved
        tcsetattr(0, flushOnRestore ? TCSAFLUSH : TCSANOW, &saved)
    }

    private static func change(flushOnRestore: Bool, _ edit: (inout termios) -> Void) -> TerminalMode? {
        guard isatty(0) != 0 else { return nil }
        var current = termios()
        guard tcgetattr(0, &current) == 0 else { return nil }
        let saved = current
        edit(&current)
        tcsetattr(0, TCSANOW, &current)
        return TerminalMode(saved: saved, flushOnRestore: flushOnRestore)
    }
}
