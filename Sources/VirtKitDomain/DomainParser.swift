import VirtKitText

/// Reads libvirt domain XML into a ``Domain`` and applies libvirt's defaults, as `virsh define`
/// does; ``DomainValidator`` then refuses what libvirt would refuse.
public enum DomainParser {
    /// Parse, fill in defaults and validate: the whole of `define`.
    public static func define(xml: String) throws(DomainError) -> Domain {
        var domain = try parse(xml: xml)
        try DomainDefaults.apply(to: &domain)
        try DomainValidator.validate(domain)
        return domain
    }

    /// Parse only: no defaults, no validation.
    public static func parse(xml: String) throws(DomainError) -> Domain {
        let root = try XMLDocumentParser.parse(xml, keeping: ["metadata"])
        return try parse(root)
    }

    static func parse(_ root: XMLElement) throws(DomainError) -> Domain {
        guard root.name == "domain" else {
            throw DomainError(.xmlError, "unexpected root element <\(root.name)>, expecting <domain>")
        }
        var domain = Domain()
        guard let type = root.attribute("type") else { throw .missingAttribute("type", "domain") }
        guard let virtType = Domain.VirtType(rawValue: type) else {
            throw DomainError(.configUnsupported, "domain type '\(type)' is not supported by VirtKit (kvm, qemu)")
        }
        domain.virtType = virtType
        for child in root.children {
            switch child.name {
            case "name":
                domain.name = child.text
            case "uuid":
                guard let uuid = UUIDText.normalise(child.text) else {
                    throw DomainError(.internalError, "malformed uuid element")
                }
                domain.uuid = uuid
            case "title": domain.title = child.text
            case "description": domain.description = child.text
            case "metadata" where child.namespaceURI == nil:
                // libvirt reads the first one and ignores the others.
                if domain.metadata == nil { domain.metadata = Domain.Metadata(keeping: keptWhole(child)) }
            case "memory": domain.memoryKiB = try parseMemory(child)
            case "currentMemory": domain.currentMemoryKiB = try parseMemory(child)
            case "vcpu":
                guard let count = UInt32(child.text.trimmingBlanks), count > 0 else {
                    throw DomainError(.xmlError, "maximum vcpus count must be an integer")
                }
                domain.vcpus = count
            case "os": try parseOS(child, into: &domain.os)
            case "features":
                for feature in child.children {
                    switch feature.name {
                    case "acpi": domain.features.acpi = true
                    case "apic": domain.features.apic = true
                    case "pae": domain.features.pae = true
                    default: throw unsupported(feature, in: "features")
                    }
                }
            case "cpu":
                domain.cpu = Domain.CPU(mode: child.attribute("mode") ?? "custom", match: child.attribute("match"),
                                        check: child.attribute("check"),
                                        model: child.child("model").map { $0.text.trimmingBlanks },
                                        fallback: child.child("model")?.attribute("fallback"))
            case "clock":
                let offset = child.attribute("offset") ?? "utc"
                guard offset == "utc" || offset == "localtime" else {
                    throw DomainError.invalidValue("offset", "clock", offset)
                }
                domain.clockOffset = offset
                for timer in child.children {
                    guard timer.name == "timer" else { throw unsupported(timer, in: "clock") }
                    domain.clockTimers.append(try ClockTimer.parse(timer))
                }
            case "on_poweroff": domain.onPoweroff = try lifecycle(child)
            case "on_reboot": domain.onReboot = try lifecycle(child)
            case "on_crash": domain.onCrash = try lifecycle(child)
            case "pm": domain.pm = try PowerManagement.parse(child)
            case "devices": try DevicesParser.parse(child, into: &domain.devices)
            default: throw unsupported(child, in: "domain")
            }
        }
        if domain.name.isEmpty { throw DomainError(.xmlError, "missing name information") }
        return domain
    }

    static func unsupported(_ element: XMLElement, in parent: String) -> DomainError {
        let namespace = element.namespaceURI.map { " (namespace '\($0)')" } ?? ""
        return DomainError(.configUnsupported,
                           "element <\(element.name)>\(namespace) in <\(parent)> (line \(element.line)) is not supported by VirtKit")
    }

    /// The element as written, which the parser keeps for `<metadata>`; a document the streaming
    /// builder took has no namespaces, so there an element is its name and attributes alone.
    private static func keptWhole(_ element: XMLElement) -> XMLNode.Element {
        if case .element(let kept)? = element.verbatim { return kept }
        return XMLNode.Element(localName: element.name,
                               attributes: element.attributes.map { XMLNode.Attribute(localName: $0.name, value: $0.value) })
    }

    private static func lifecycle(_ element: XMLElement) throws(DomainError) -> Domain.LifecycleAction {
        let text = element.text.trimmingBlanks
        guard let action = Domain.LifecycleAction(rawValue: text) else {
            throw DomainError(.xmlError, "invalid \(element.name) value: '\(text)'")
        }
        return action
    }

    private static func parseOS(_ element: XMLElement, into os: inout Domain.OperatingSystem) throws(DomainError) {
        for child in element.children {
            switch child.name {
            case "type":
                os.type = child.text.trimmingBlanks
                if let arch = child.attribute("arch") { os.arch = arch }
                if let machine = child.attribute("machine") { os.machine = machine }
            case "kernel": os.kernel = child.text
            case "initrd": os.initrd = child.text
            case "cmdline": os.cmdline = child.text
            case "boot":
                guard let dev = child.attribute("dev") else { throw .missingAttribute("dev", "boot") }
                guard ["hd", "cdrom", "network", "fd"].contains(dev) else {
                    throw DomainError(.xmlError, "unknown boot device '\(dev)'")
                }
                os.bootDevices.append(dev)
            default: throw unsupported(child, in: "os")
            }
        }
        guard os.type == "hvm" else {
            throw DomainError(.configUnsupported, "os type '\(os.type)' is not supported by VirtKit (hvm)")
        }
        guard os.arch == "x86_64" else {
            throw DomainError(.configUnsupported, "arch '\(os.arch)' is not supported by VirtKit (x86_64)")
        }
    }

    /// `<memory unit>N</memory>` in KiB, rounded up as libvirt's `virDomainParseMemory` does.
    private static func parseMemory(_ element: XMLElement) throws(DomainError) -> UInt64 {
        let text = element.text.trimmingBlanks
        guard let value = UInt64(text) else {
            throw DomainError(.xmlError, "could not parse memory element \(element.name)")
        }
        let unit = element.attribute("unit") ?? "KiB"
        let scale: UInt64
        switch unit {
        case "b", "bytes": scale = 1
        case "KB": scale = 1000
        case "k", "K", "KiB": scale = 1024
        case "MB": scale = 1_000_000
        case "m", "M", "MiB": scale = 1 << 20
        case "GB": scale = 1_000_000_000
        case "g", "G", "GiB": scale = 1 << 30
        case "TB": scale = 1_000_000_000_000
        case "t", "T", "TiB": scale = 1 << 40
        default: throw DomainError(.invalidArgument, "unknown suffix '\(unit)'")
        }
        // libvirt's limit (virMemoryMaxValue on 64-bit hosts): LLONG_MAX bytes.
        guard value <= UInt64(Int64.max) / scale else { throw DomainError(.xmlError, "value too large: \(text)\(unit)") }
        let bytes = value * scale
        return bytes / 1024 + (bytes % 1024 == 0 ? 0 : 1)
    }
}


/// UUIDs in libvirt's canonical form: lower-case 8-4-4-4-12.
public enum UUIDText {
    public static func normalise(_ text: String) -> String? {
        if let ascii = normaliseASCII(text) { return ascii }
        return normaliseUnicode(text)
    }

    /// The usual case, on bytes: ASCII text without a carriage return (so no `\r\n` grapheme,
    /// which ``Swift/StringProtocol/trimmingBlanks`` does not trim). Nil when the text is not such text
    /// or is not a UUID; ``normaliseUnicode(_:)`` then decides.
    private static func normaliseASCII(_ text: String) -> String? {
        func blank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x09 }
        let utf8 = Array(text.utf8)
        var start = 0, end = utf8.count
        while start < end, blank(utf8[start]) { start += 1 }
        while end > start, blank(utf8[end - 1]) { end -= 1 }
        var out = UTF8Buffer(capacity: 36)
        var digits = 0
        for byte in utf8[start..<end] {
            var digit = byte
            switch byte {
            case 0x30...0x39, 0x61...0x66: break
            case 0x41...0x46: digit = byte + 0x20
            case 0x2D: continue
            default: return nil
            }
            if digits == 32 { return nil }
            if digits == 8 || digits == 12 || digits == 16 || digits == 20 { out.append(0x2D) }
            out.append(digit)
            digits += 1
        }
        return digits == 32 ? out.string : nil
    }

    private static func normaliseUnicode(_ text: String) -> String? {
        let hex = text.trimmingBlanks.lowercased().filter { $0 != "-" }
        guard hex.count == 32, hex.allSatisfy(\.isHexDigit) else { return nil }
        let chars = Array(hex)
        return String(chars[0..<8]) + "-" + String(chars[8..<12]) + "-" + String(chars[12..<16]) + "-"
            + String(chars[16..<20]) + "-" + String(chars[20..<32])
    }

    public static func random() -> String {
        var rng = SystemRandomNumberGenerator()
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = bytes.map { b in String(b >> 4, radix: 16) + String(b & 0xF, radix: 16) }.joined()
        return normalise(hex) ?? hex
    }
}
