import VirtKitXDR

/// The header of every libvirt RPC packet (virnetprotocol.x `virNetMessageHeader`), after the
/// packet's 4-byte length: which program, version and procedure, what kind of message, the
/// serial that pairs a reply with its call, and the status.
public struct RPCHeader: Equatable, Sendable {
    /// Its size in XDR: six 4-byte words.
    public static let size = 24

    /// `virNetMessageType`.
    public enum MessageType: Int32, Sendable {
        case call = 0, reply = 1, message = 2, stream = 3, callWithFDs = 4, replyWithFDs = 5, streamHole = 6
    }

    /// `virNetMessageStatus`.
    public enum Status: Int32, Sendable {
        case ok = 0, error = 1, `continue` = 2
    }

    public var program: UInt32
    public var version: UInt32
    public var procedure: Int32
    public var type: MessageType
    public var serial: UInt32
    public var status: Status

    public init(program: UInt32, version: UInt32, procedure: Int32, type: MessageType, serial: UInt32, status: Status) {
        self.program = program
        self.version = version
        self.procedure = procedure
        self.type = type
        self.serial = serial
        self.status = status
    }

    /// The header of the answer to this call: same program, version, procedure and serial.
    public func reply(_ status: Status, type: MessageType = .reply) -> RPCHeader {
        RPCHeader(program: program, version: version, procedure: procedure, type: type, serial: serial, status: status)
    }

    public func encode(to writer: inout XDRWriter) {
        writer.write(program)
        writer.write(version)
        writer.write(procedure)
        writer.write(type.rawValue)
        writer.write(serial)
        writer.write(status.rawValue)
    }

    /// Reads a header. The words a reply needs (program, version, procedure, serial) are read
    /// before a bad type or status is refused, so ``RPCHeaderError`` carries them to answer with.
    public static func decode(from reader: inout XDRReader) throws(RPCHeaderError) -> RPCHeader {
        do {
            let program = try reader.read(UInt32.self)
            let version = try reader.read(UInt32.self)
            let procedure = try reader.read(Int32.self)
            let rawType = try reader.read(Int32.self)
            let serial = try reader.read(UInt32.self)
            let rawStatus = try reader.read(Int32.self)
            guard let type = MessageType(rawValue: rawType), let status = Status(rawValue: rawStatus) else {
                throw RPCHeaderError.invalid(program: program, version: version, procedure: procedure, serial: serial,
                                             reason: "unknown message type \(rawType) or status \(rawStatus)")
            }
            return RPCHeader(program: program, version: version, procedure: procedure, type: type, serial: serial, status: status)
        } catch let error as RPCHeaderError {
            throw error
        } catch {
            throw .truncated
        }
    }
}

/// A header that cannot be answered as it stands.
public enum RPCHeaderError: Error, Equatable, Sendable {
    /// Shorter than a header: nothing to reply to.
    case truncated
    /// Read whole, with a type or status libvirt does not define.
    case invalid(program: UInt32, version: UInt32, procedure: Int32, serial: UInt32, reason: String)
}
