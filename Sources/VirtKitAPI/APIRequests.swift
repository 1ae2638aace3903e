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
    public static func monitor(_ name: String) -> String { domain(name) + "/monitor" }
    public static let version = "/v1/version"
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

/// Options of `POST .../shutdown`: the stop ladder's first rung and how long it may take.
public struct ShutdownRequest: Codable, Sendable, Equatable {
    public enum Mode: String, Codable, Sendable { case acpi, agent }
    public var mode: Mode
    /// Seconds to wait for the guest before `quit`, SIGTERM and SIGKILL (default 60).
    public var timeoutSeconds: Double
    /// True: answer once QEMU is gone. False: answer once the power button is pressed and let
    /// the ladder go on in the daemon (the CLI then polls the state, showing progress).
    public var wait: Bool
    public init(mode: Mode = .acpi, timeoutSeconds: Double = 60, wait: Bool = false) {
        self.mode = mode
        self.timeoutSeconds = timeoutSeconds
        self.wait = wait
    }

    /// Missing fields take their defaults (acpi, 60 s, no wait).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        mode = try container.decodeIfPresent(Mode.self, forKey: .mode) ?? .acpi
        timeoutSeconds = try container.decodeIfPresent(Double.self, forKey: .timeoutSeconds) ?? 60
        wait = try container.decodeIfPresent(Bool.self, forKey: .wait) ?? false
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
