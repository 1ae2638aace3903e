/// Reads one `<serial>`, `<parallel>`, `<console>` or `<channel>` element as libvirt's
/// `virDomainChrDefParseXML` does for an inactive definition, with libvirt's error wording.
enum ChardevParser {
    static func parse(_ element: XMLElement) throws(DomainError) -> Chardev {
        let typeName = element.attribute("type") ?? "pty"
        let target = try parseTarget(element)
        var chardev = Chardev(source: .null, target: target)
        try parseSource(element, typeName: typeName, into: &chardev)

        if case .spicevmc = chardev.source, targetTypeIndex(target) != 2 {
            throw DomainError(.configUnsupported, "spicevmc device type only supports virtio")
        }
        if let alias = element.child("alias")?.attribute("name"), isUserAlias(alias) {
            chardev.alias = alias
        }
        if let address = element.child("address") {
            chardev.address = try AddressParser.parse(address)
        }
        if case .serial(.usbSerial, _, _) = target, let address = chardev.address {
            if case .usb = address {} else {
                throw DomainError(.configUnsupported, "usb-serial requires address of usb type")
            }
        }
        return chardev
    }

    /// libvirt keeps a user alias in inactive XML only when it is `ua-` plus [A-Za-z0-9_-].
    static func isUserAlias(_ alias: String) -> Bool {
        guard alias.hasPrefix("ua-") else { return false }
        return alias.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b == 0x2D
        }
    }

    /// The C enum value of the target type; libvirt's spicevmc check compares it with 2 whatever
    /// the device kind (serial usb-serial and console xen pass, as they do in libvirt).
    private static func targetTypeIndex(_ target: ChardevTarget) -> Int {
        switch target {
        case .serial(let type, _, _): return SerialTargetType.allCases.firstIndex(of: type) ?? 0
        case .console(let type, _): return ConsoleTargetType.allCases.firstIndex(of: type) ?? 0
        case .parallel: return 0
        case .noneChannel: return 0
        case .guestfwd: return 1
        case .virtioChannel: return 2
        case .xenChannel: return 3
        }
    }

    private static func parseTarget(_ element: XMLElement) throws(DomainError) -> ChardevTarget {
        let kind = element.name
        guard let target = element.child("target") else {
            switch kind {
            case "channel": throw DomainError(.xmlError, "target type must be specified for channel device")
            case "serial": return .serial(type: .none, model: .none, port: -1)
            case "console": return .console(type: .none, port: -1)
            default: return .parallel(port: -1)
            }
        }
        let typeAttr = target.attribute("type")
        func unknownType() -> DomainError {
            DomainError(.configUnsupported, "unknown target type '\(typeAttr ?? "(null)")' specified for character device")
        }
        let modelName = target.child("model")?.attribute("name")
        switch kind {
        case "channel":
            switch typeAttr {
            case "virtio": return .virtioChannel(name: target.attribute("name"), state: nil)
            case "xen": return .xenChannel(name: target.attribute("name"))
            case "none": return .noneChannel
            case "guestfwd":
                guard let address = target.attribute("address") else {
                    throw DomainError(.xmlError, "guestfwd channel does not define a target address")
                }
                try checkGuestfwdAddress(address)
                let port = try target.requiredUnsigned("port")
                return .guestfwd(address: address, port: port)
            default: throw unknownType()
            }
        case "serial":
            let type: SerialTargetType
            if let typeAttr {
                guard let parsed = SerialTargetType(rawValue: typeAttr) else { throw unknownType() }
                type = parsed
            } else {
                type = .none
            }
            var model = SerialTargetModel.none
            if let modelName, !modelName.isEmpty {
                guard let parsed = SerialTargetModel(rawValue: modelName), parsed != .none else {
                    throw DomainError(.configUnsupported,
                                      "unknown target model '\(modelName)' specified for character device")
                }
                model = parsed
            }
            return .serial(type: type, model: model, port: try parsePort(target))
        case "console":
            let type: ConsoleTargetType
            if let typeAttr {
                guard let parsed = ConsoleTargetType(rawValue: typeAttr) else { throw unknownType() }
                type = parsed
            } else {
                type = .none
            }
            return .console(type: type, port: try parsePort(target))
        default:
            return .parallel(port: try parsePort(target))
        }
    }

    /// `virStrToLong_ui` on the port: accepts a sign and wraps, as C does.
    private static func parsePort(_ target: XMLElement) throws(DomainError) -> Int {
        guard let text = target.attribute("port") else { return -1 }
        if let value = UInt32(text) { return Int(Int32(bitPattern: value)) }
        if text.hasPrefix("-"), let magnitude = UInt32(text.dropFirst()) {
            return Int(Int32(bitPattern: 0 &- magnitude))
        }
        throw DomainError(.xmlError, "Invalid port number: \(text)")
    }

    /// guestfwd takes a numeric IPv4 address (libvirt: `virSocketAddrParse`, then AF_INET only).
    private static func checkGuestfwdAddress(_ address: String) throws(DomainError) {
        if IPv4Address.parse(address) != nil { return }
        if address.contains(":") && address.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) {
            throw DomainError(.configUnsupported, "guestfwd channel only supports IPv4 addresses")
        }
        throw DomainError(.operationFailed, "Cannot parse socket address '\(address)': Name or service not known")
    }

    private static func parseSource(_ element: XMLElement, typeName: String,
                                    into chardev: inout Chardev) throws(DomainError) {
        let sources = element.children(named: "source")
        if sources.count > 1 && typeName != "udp" {
            throw DomainError(.xmlError, "only one source element is allowed for character device")
        }
        if sources.count > 2 {
            throw DomainError(.xmlError, "only two source elements are allowed for character device")
        }
        let first = sources.first
        switch typeName {
        case "null": chardev.source = .null
        case "vc": chardev.source = .vc
        case "stdio": chardev.source = .stdio
        case "spicevmc": chardev.source = .spicevmc
        case "pty": chardev.source = .pty(path: nil)  // a pty path is live state, not kept
        case "dev": chardev.source = .dev(path: first?.attribute("path"))
        case "pipe": chardev.source = .pipe(path: first?.attribute("path"))
        case "file": chardev.source = .file(path: first?.attribute("path"), append: try first?.onOff("append"))
        case "unix":
            var unix = UnixSource()
            if let first {
                unix.mode = try first.enumerated("mode", SocketMode.self) ?? .connect
                unix.path = first.attribute("path")
                unix.reconnect = try parseReconnect(first)
            }
            chardev.source = .unix(unix)
        case "tcp":
            var tcp = TCPSource()
            if let first {
                tcp.mode = try first.enumerated("mode", SocketMode.self) ?? .connect
                tcp.host = first.attribute("host")
                tcp.service = first.attribute("service")
                tcp.tls = try first.yesNo("tls")
                tcp.reconnect = try parseReconnect(first)
            }
            chardev.source = .tcp(tcp)
        case "udp":
            var udp = UDPSource()
            var sawBind = false, sawConnect = false
            for source in sources {
                let mode = try source.enumerated("mode", SocketMode.self) ?? .connect
                if mode == .bind, !sawBind {
                    sawBind = true
                    udp.bindHost = source.attribute("host")
                    udp.bindService = source.attribute("service")
                } else if mode == .connect, !sawConnect {
                    sawConnect = true
                    udp.connectHost = source.attribute("host")
                    udp.connectService = source.attribute("service")
                }
            }
            chardev.source = .udp(udp)
        case "spiceport": chardev.source = .spiceport(channel: first?.attribute("channel"))
        case "dbus": chardev.source = .dbus(channel: first?.attribute("channel"))
        case "nmdm": chardev.source = .nmdm(master: first?.attribute("master"), slave: first?.attribute("slave"))
        case "qemu-vdagent":
            var clipboard: Bool?
            var mouse: VdagentMouseMode?
            if let clip = first?.child("clipboard") {
                guard let value = try clip.yesNo("copypaste") else { throw .missingAttribute("copypaste", "clipboard") }
                clipboard = value
            }
            if let mouseElement = first?.child("mouse") {
                guard let value = try mouseElement.enumerated("mode", VdagentMouseMode.self) else {
                    throw .missingAttribute("mode", "mouse")
                }
                mouse = value
            }
            chardev.source = .qemuVdagent(clipboard: clipboard, mouse: mouse)
        default:
            throw DomainError(.configUnsupported, "unknown type presented to host for character device: \(typeName)")
        }
        if let first {
            chardev.seclabels = try parseSeclabels(first)
        }
        let logs = element.children(named: "log")
        if logs.count > 1 { throw DomainError(.xmlError, "only one log element is allowed for character device") }
        if let log = logs.first, let file = log.attribute("file") {
            chardev.log = ChardevLog(file: file, append: try log.onOff("append"))
        } else if let log = logs.first {
            _ = try log.onOff("append")
        }
        let protocols = element.children(named: "protocol")
        if protocols.count > 1 {
            throw DomainError(.xmlError, "only one protocol element is allowed for character device")
        }
        if case .tcp(var tcp) = chardev.source, let proto = protocols.first, let name = proto.attribute("type") {
            guard let parsed = TCPProtocol(rawValue: name) else {
                throw DomainError(.configUnsupported, "Unknown protocol '\(name)'")
            }
            tcp.protocol = parsed
            chardev.source = .tcp(tcp)
        }
    }

    private static func parseReconnect(_ source: XMLElement) throws(DomainError) -> ChardevReconnect {
        guard let element = source.child("reconnect") else { return ChardevReconnect() }
        var reconnect = ChardevReconnect(enabled: try element.yesNo("enabled"))
        if reconnect.enabled == true {
            reconnect.timeout = try element.requiredUnsigned("timeout")
        }
        return reconnect
    }

    private static func parseSeclabels(_ source: XMLElement) throws(DomainError) -> [SourceSecurityLabel] {
        var labels: [SourceSecurityLabel] = []
        for element in source.children(named: "seclabel") {
            let model = element.attribute("model")
            if let model, labels.contains(where: { $0.model == model }) {
                throw DomainError(.xmlDetail, "seclabel for model \(model) is already provided")
            }
            let relabel = try element.yesNo("relabel") ?? true
            var label: String?
            if let text = element.child("label")?.text, text.utf8.count < 4097 { label = text }
            if label != nil && !relabel {
                throw DomainError(.xmlError, "Cannot specify a label if relabelling is turned off. model=\(model ?? "<null>")")
            }
            labels.append(SourceSecurityLabel(model: model, relabel: relabel, label: label))
        }
        return labels
    }
}
