#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import SystemPackage

/// Terminal settings for a console descriptor.
enum RawTerminal {
    /// Puts the tty at `descriptor` in raw mode (`cfmakeraw`: no echo, no line editing, no
    /// CR/NL translation, no signals, 8-bit), so bytes pass unchanged both ways. Does nothing
    /// when `descriptor` is not a tty.
    static func makeRaw(_ descriptor: FileDescriptor) throws(Errno) {
        guard isatty(descriptor.rawValue) != 0 else { return }
        var settings = termios()
        guard tcgetattr(descriptor.rawValue, &settings) == 0 else { throw Errno(rawValue: errno) }
        cfmakeraw(&settings)
        guard tcsetattr(descriptor.rawValue, TCSANOW, &settings) == 0 else { throw Errno(rawValue: errno) }
    }
}
