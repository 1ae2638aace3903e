import VirtKitXDR

/// A domain on libvirt's wire (`remote_nonnull_domain`): its name, its uuid's 16 bytes and its
/// id, -1 while it is not running. Clients answer a domain's name, uuid and id from it locally.
public struct RemoteDomain: Equatable, Sendable {
    public var name: String
    public var uuid: [UInt8]
    public var id: Int32

    public init(name: String, uuid: [UInt8], id: Int32) {
        self.name = name
        self.uuid = uuid
        self.id = id
    }

    public func encode(to writer: inout XDRWriter) {
        writer.write(name)
        writer.writeFixedOpaque(uuid)
        writer.write(id)
    }

    public static func decode(from reader: inout XDRReader) throws(XDRError) -> RemoteDomain {
        let name = try reader.readString(limit: RPCLimits.stringMax, what: "domain name")
        let uuid = try reader.readFixedOpaque(count: RPCLimits.uuidLength)
        return RemoteDomain(name: name, uuid: uuid, id: try reader.read(Int32.self))
    }

    /// The 16 bytes of a uuid written as 32 hex digits, with or without libvirt's dashes; nil
    /// for anything else.
    public static func uuidBytes(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8.filter { $0 != UInt8(ascii: "-") })
        guard digits.count == 32 else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: 32, by: 2) {
            guard let high = hexValue(digits[index]), let low = hexValue(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    /// A uuid's bytes as libvirt writes them: lowercase, 8-4-4-4-12.
    public static func uuidString(_ bytes: [UInt8]) -> String {
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for (index, byte) in bytes.enumerated() {
            if [4, 6, 8, 10].contains(index) { out.append(UInt8(ascii: "-")) }
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
