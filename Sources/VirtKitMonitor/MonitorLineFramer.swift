/// Splits a monitor client's bytes into command lines, as a plain value without I/O.
///
/// Lines end with `\n`, `\r\n`, `\r\0` (telnet's bare carriage return) or a lone `\r`. Telnet
/// negotiation is removed rather than taken as command text: `IAC` (0xFF) followed by a
/// command byte, with an option byte after `WILL`/`WONT`/`DO`/`DONT`, and subnegotiation from
/// `IAC SB` to `IAC SE`; `IAC IAC` is a literal 0xFF. A sequence split across reads is resumed
/// with the next bytes.
///
/// A line longer than ``maxLineLength`` yields ``Output/tooLong`` once; the framer then stops
/// (further input is ignored), so it never holds more than `maxLineLength` bytes.
struct MonitorLineFramer {
    /// What the framer found.
    enum Output: Equatable {
        /// A complete line, without its line end.
        case line([UInt8])
        /// The current line passed ``MonitorLineFramer/maxLineLength``.
        case tooLong
    }

    private enum TelnetState {
        case data
        /// After IAC.
        case command
        /// After IAC WILL/WONT/DO/DONT: the option byte follows.
        case option
        /// Inside IAC SB ... IAC SE.
        case subnegotiation
        /// IAC inside a subnegotiation.
        case subnegotiationCommand
    }

    private static let iac: UInt8 = 0xFF
    private static let subnegotiationStart: UInt8 = 250
    private static let subnegotiationEnd: UInt8 = 240
    private static let optionCommands: ClosedRange<UInt8> = 251...254
    private static let carriageReturn = UInt8(ascii: "\r")
    private static let lineFeed = UInt8(ascii: "\n")

    /// The longest line accepted, in bytes without its line end.
    let maxLineLength: Int
    private var line: [UInt8] = []
    private var telnet = TelnetState.data
    private var afterCarriageReturn = false
    /// Whether a line was too long; no more output follows.
    private(set) var failed = false

    init(maxLineLength: Int) {
        self.maxLineLength = maxLineLength
    }

    /// The bytes held for an unfinished line.
    var bufferedCount: Int { line.count }

    /// Takes `bytes` and returns the lines they complete.
    mutating func feed(_ bytes: some Sequence<UInt8>) -> [Output] {
        var outputs: [Output] = []
        guard !failed else { return outputs }
        for byte in bytes {
            guard let data = telnetData(byte) else { continue }
            if afterCarriageReturn {
                afterCarriageReturn = false
                if data == Self.lineFeed || data == 0 { continue }
            }
            switch data {
            case Self.carriageReturn:
                outputs.append(.line(line))
                line.removeAll(keepingCapacity: true)
                afterCarriageReturn = true
            case Self.lineFeed:
                outputs.append(.line(line))
                line.removeAll(keepingCapacity: true)
            default:
                guard line.count < maxLineLength else {
                    failed = true
                    line = []
                    outputs.append(.tooLong)
                    return outputs
                }
                line.append(data)
            }
        }
        return outputs
    }

    /// The input ended: an unfinished line counts as a last line.
    mutating func finish() -> [Output] {
        guard !failed, !line.isEmpty else { return [] }
        defer { line = [] }
        return [.line(line)]
    }

    /// Runs `byte` through the telnet state; the data byte it stands for, or nil when it is
    /// part of a negotiation sequence.
    private mutating func telnetData(_ byte: UInt8) -> UInt8? {
        switch telnet {
        case .data:
            if byte == Self.iac {
                telnet = .command
                return nil
            }
            return byte
        case .command:
            switch byte {
            case Self.iac:
                telnet = .data
                return Self.iac
            case Self.optionCommands:
                telnet = .option
            case Self.subnegotiationStart:
                telnet = .subnegotiation
            default:
                telnet = .data
            }
            return nil
        case .option:
            telnet = .data
            return nil
        case .subnegotiation:
            if byte == Self.iac { telnet = .subnegotiationCommand }
            return nil
        case .subnegotiationCommand:
            telnet = byte == Self.subnegotiationEnd ? .data : .subnegotiation
            return nil
        }
    }
}
