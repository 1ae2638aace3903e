extension QMP {
    /// What went wrong talking to QEMU, in the wire's terms.
    public enum Error: Swift.Error, Sendable, Equatable, CustomStringConvertible {
        /// The UNIX socket could not be connected (`errno`: ENOENT, ECONNREFUSED, ENAMETOOLONG, ...).
        case connectFailed(path: String, errno: Int32)
        /// The peer closed, or sent something other than a QMP greeting, before greeting.
        case greetingMissing
        /// QEMU answered `{"error": {"class": ..., "desc": ...}}`.
        case commandFailed(class: String, description: String)
        /// No answer within the call's timeout (`command` is the command's name, or
        /// `greeting` / `qmp_capabilities` while connecting).
        case timeout(command: String)
        /// The connection is closed, or closed while the call was waiting.
        case disconnected
        /// QEMU sent something that is not what QMP promises (start of the text in `raw`).
        case malformed(raw: String)
        /// A line longer than the limit (16 MiB); the connection is closed.
        case lineTooLong

        public var description: String {
            switch self {
            case .connectFailed(let path, let errno): "cannot connect to QMP socket \(path): errno \(errno)"
            case .greetingMissing: "QMP peer sent no greeting"
            case .commandFailed(let errorClass, let description): "QMP error \(errorClass): \(description)"
            case .timeout(let command): "QMP command \(command) timed out"
            case .disconnected: "QMP connection closed"
            case .malformed(let raw): "malformed QMP message: \(raw)"
            case .lineTooLong: "QMP message longer than the line limit"
            }
        }

        /// How much of an offending text ``malformed(raw:)`` keeps.
        static let excerptLength = 4096

        /// The start of `bytes` as text, for ``malformed(raw:)``.
        static func excerpt(_ bytes: some Collection<UInt8>) -> String {
            String(decoding: bytes.prefix(excerptLength), as: UTF8.self)
        }
    }
}
