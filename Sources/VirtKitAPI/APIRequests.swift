/// Paths of the HTTP/JSON API (described in docs/openapi.yaml), version 1.
public enum APIPath {
    public static let domains = "/v1/domains"
    public static func domain(_ name: String) -> String { "/v1/domains/" + escape(name) }
    public static func action(_ name: String, _ action: DomainAction) -> String {
        domain(name) + "/" + action.rawValue
    }
    public static func xml(_ name: String, inactive: Bool) -> String {
        domain(name) + "/xml" + (inactive ? "?inactive=true" : "")
    }
    public static func state(_ name: String) -> String { domain(name) + "/state" }
    public static func autostart(_ name: String) -> String { domain(name) + "/autostart" }
    public static func monitor(_ name: String) -> String { domain(name) + "/monitor" }
    public static let version = "/v1/version"
    public static let networks = "/v1/networks"
    public static func network(_ name: String) -> String { networks + "/" + escape(name) }
    public static func chardevs(_ name: String) -> String { domain(name) + "/chardevs" }
    public static func agent(_ name: String) -> String { domain(name) + "/agent" }
    public static func devices(_ name: String, attach: Bool) -> String { domain(name) + (attach ? "/devices/attach" : "/devices/detach") }
    /// The domain's QEMU log, or a chardev's log with `device`.
    public static func log(_ name: String, device: String?) -> String {
        domain(name) + "/log" + (device.map { "/" + escape($0) } ?? "")
    }

    /// The domain name in a path of ``domain(_:)``'s form (`/v1/domains/NAME`, percent-encoded),
    /// or nil for any other path, a bad escape, or a name that is not UTF-8.
    public static func domainName(inPath path: String) -> String? {
        let prefix = Array((domains + "/").utf8)
        let bytes = Array(path.utf8)
        guard bytes.count > prefix.count, bytes.starts(with: prefix) else { return nil }
        func hexValue(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var name: [UInt8] = []
        var i = prefix.count
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "%"):
                guard i + 2 < bytes.count, let high = hexValue(bytes[i + 1]), let low = hexValue(bytes[i + 2]) else { return nil }
                name.append(high << 4 | low)
                i += 3
            case UInt8(ascii: "/"), UInt8(ascii: "?"), UInt8(ascii: "#"):
                return nil
            default:
                name.append(bytes[i])
                i += 1
            }
        }
        return String(validating: name, as: UTF8.self)
    }

    /// Percent-encodes everything outside unreserved characters (names may hold any UTF-8).
    public static func escape(_ segment: String) -> String {
        var out = ""
        for byte in segment.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"),
                 UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 15)]], as: UTF8.self)
            }
        }
        return out
    }
}

/// The verbs posted to `/v1/domains/NAME/VERB`.
public enum DomainAction: String, Codable, Sendable, CaseIterable {
    case start, shutdown, destroy, reboot, suspend, resume
}

/// Options of `POST .../start`.
public struct StartRequest: Codable, Sendable, Equatable {
    public var paused: Bool
    public init(paused: Bool = false) { self.paused = paused }

    /// Missing fields take their defaults (`{}` is a plain start).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        paused = try container.decodeIfPresent(Bool.self, forKey: .paused) ?? false
    }
}


/// What `GET /v1/version` answers.
public struct VersionInfo: Codable, Sendable, Equatable {
    public var virtkit: String
    public var mode: String
    public var pid: Int32
    public init(virtkit: String, mode: String, pid: Int32) {
        self.virtkit = virtkit
        self.mode = mode
        self.pid = pid
    }
}

/// `POST /v1/domains/{name}/agent`: one guest agent command, virsh's qemu-agent-command.
public struct AgentCommandRequest: Codable, Sendable, Equatable {
    /// The command as JSON text, e.g. `{"execute":"guest-info"}`.
    public var command: String
    /// libvirt's timeout: -2 blocks, -1 the default (5 s), 0 does not wait, N seconds.
    public var timeout: Int

    public init(command: String, timeout: Int = -1) {
        self.command = command
        self.timeout = timeout
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        command = try container.decode(String.self, forKey: .command)
        timeout = try container.decodeIfPresent(Int.self, forKey: .timeout) ?? -1
    }
}

/// The body of `POST .../shutdown` is the runtime's ``ShutdownOptions``.
public typealias ShutdownRequest = ShutdownOptions
