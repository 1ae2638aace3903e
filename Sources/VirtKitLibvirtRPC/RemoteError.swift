import VirtKitXDR

/// An error on libvirt's wire (virnetprotocol.x `virNetMessageError`): libvirt's error number,
/// the part of libvirt it comes from, and the message virsh prints after `error: `.
public struct RemoteError: Error, Equatable, Sendable, CustomStringConvertible {
    public var code: Int32
    public var domain: Int32
    public var message: String
    /// VIR_ERR_ERROR.
    public var level: Int32 = 2

    public init(code: Int32, domain: Int32, message: String) {
        self.code = code
        self.domain = domain
        self.message = message
    }

    public var description: String { message }

    /// `virErrorNumber` values the daemon answers with (include/libvirt/virterror.h).
    public enum Number {
        public static let internalError: Int32 = 1
        public static let noSupport: Int32 = 3
        public static let invalidArg: Int32 = 8
        public static let operationFailed: Int32 = 9
        public static let xmlError: Int32 = 27
        public static let domainExists: Int32 = 28
        public static let systemError: Int32 = 38
        public static let rpc: Int32 = 39
        public static let noDomain: Int32 = 42
        /// VIR_ERR_NO_NETWORK.
        public static let noNetwork: Int32 = 43

        public static let operationInvalid: Int32 = 55
        public static let configUnsupported: Int32 = 67
        public static let operationTimeout: Int32 = 68
        public static let argumentUnsupported: Int32 = 74
        public static let agentUnresponsive: Int32 = 86
    }

    /// `virErrorDomain` values: where in libvirt an error comes from.
    public enum Source {
        public static let none: Int32 = 0
        public static let rpc: Int32 = 7
        public static let qemu: Int32 = 10
        public static let remote: Int32 = 13
        /// VIR_FROM_NETWORK: the network driver.
        public static let network: Int32 = 19
        /// VIR_FROM_DOMAIN: the domain configuration code (conf/).
        public static let domainConfig: Int32 = 20
    }

    /// libvirtd's answer to a procedure it does not have.
    public static func unknownProcedure(_ procedure: Int32) -> RemoteError {
        RemoteError(code: Number.rpc, domain: Source.rpc, message: "unknown procedure: \(procedure)")
    }

    /// What a driver answers for an API it does not support (virReportUnsupportedError).
    public static func unsupported(_ what: String) -> RemoteError {
        RemoteError(code: Number.noSupport, domain: Source.qemu, message: "this function is not supported by the connection driver: \(what)")
    }

    /// The XDR payload of an error reply. `dom` and `net`, optional pointers in the struct, are
    /// sent absent, as libvirtd does; str1..3 and int1..2 carry nothing clients read (virsh prints `message`).
    public func encode(to writer: inout XDRWriter) {
        writer.write(code)
        writer.write(domain)
        writer.writeOptional(message) { $0.write($1) }
        writer.write(level)
        writer.write(false)  // dom
        writer.write(false)  // str1
        writer.write(false)  // str2
        writer.write(false)  // str3
        writer.write(Int32(-1))  // int1
        writer.write(Int32(-1))  // int2
        writer.write(false)  // net
    }

    public static func decode(from reader: inout XDRReader) throws(XDRError) -> RemoteError {
        let code = try reader.read(Int32.self)
        let domain = try reader.read(Int32.self)
        let message = try reader.readOptional { r throws(XDRError) in try r.readString(limit: RPCLimits.stringMax) }
        var error = RemoteError(code: code, domain: domain, message: message ?? "")
        error.level = try reader.read(Int32.self)
        return error
    }
}
