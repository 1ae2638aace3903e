/// Writes a character device as libvirt's `virDomainChrDefFormat` does for inactive XML:
/// source(s), protocol, log, target, alias, address.
enum ChardevFormatter {
    static func write(_ chardev: Chardev, as elementName: String, into w: inout LibvirtXMLWriter) {
        w.element(elementName, [("type", chardev.source.typeName)]) { w in
            writeSource(chardev, into: &w)
            writeTarget(chardev.target, into: &w)
            if let alias = chardev.alias { w.empty("alias", [("name", alias)]) }
            if let address = chardev.address { AddressFormatter.write(address, into: &w) }
        }
    }

    private static func onOff(_ value: Bool?) -> String? { value.map { $0 ? "on" : "off" } }
    private static func yesNo(_ value: Bool?) -> String? { value.map { $0 ? "yes" : "no" } }

    private static func writeSeclabels(_ labels: [SourceSecurityLabel], into w: inout LibvirtXMLWriter) {
        for label in labels {
            if label.label == nil && label.relabel { continue }  // inactive XML skips these
            var attrs: [(String, String?)] = [("model", label.model)]
            attrs.append(label.labelskip ? ("labelskip", "yes") : ("relabel", label.relabel ? "yes" : "no"))
            if let text = label.label {
                w.element("seclabel", attrs) { w in w.text("label", [], text) }
            } else {
                w.empty("seclabel", attrs)
            }
        }
    }

    private static func writeReconnect(_ reconnect: ChardevReconnect, into w: inout LibvirtXMLWriter) {
        guard let enabled = reconnect.enabled else { return }
        w.empty("reconnect", [("enabled", enabled ? "yes" : "no"),
                              ("timeout", enabled ? String(reconnect.timeout) : nil)])
    }

    private static func writeSource(_ chardev: Chardev, into w: inout LibvirtXMLWriter) {
        switch chardev.source {
        case .null, .vc, .stdio, .spicevmc, .pty:
            break
        case .qemuVdagent(let clipboard, let mouse):
            if clipboard != nil || mouse != nil {
                w.element("source") { w in
                    if let clipboard { w.empty("clipboard", [("copypaste", yesNo(clipboard))]) }
                    if let mouse { w.empty("mouse", [("mode", mouse.rawValue)]) }
                }
            }
        case .dev(let path), .pipe(let path):
            w.optionalElement("source", [("path", path)]) { w in writeSeclabels(chardev.seclabels, into: &w) }
        case .file(let path, let append):
            w.optionalElement("source", [("path", path), ("append", onOff(append))]) { w in
                writeSeclabels(chardev.seclabels, into: &w)
            }
        case .nmdm(let master, let slave):
            if master != nil || slave != nil {
                w.empty("source", [("master", master), ("slave", slave)])
            }
        case .udp(let udp):
            if udp.bindHost != nil || udp.bindService != nil {
                w.empty("source", [("mode", "bind"), ("host", udp.bindHost), ("service", udp.bindService)])
            }
            if udp.connectHost != nil || udp.connectService != nil {
                w.empty("source", [("mode", "connect"), ("host", udp.connectHost), ("service", udp.connectService)])
            }
        case .tcp(let tcp):
            w.optionalElement("source", [("mode", tcp.mode.rawValue), ("host", tcp.host), ("service", tcp.service),
                                         ("tls", yesNo(tcp.tls))]) { w in
                writeReconnect(tcp.reconnect, into: &w)
            }
            w.empty("protocol", [("type", tcp.protocol.rawValue)])
        case .unix(let unix):
            if let path = unix.path {
                w.optionalElement("source", [("mode", unix.mode.rawValue), ("path", path)]) { w in
                    writeSeclabels(chardev.seclabels, into: &w)
                    writeReconnect(unix.reconnect, into: &w)
                }
            }
        case .spiceport(let channel), .dbus(let channel):
            if let channel { w.empty("source", [("channel", channel)]) }
        }
        if let log = chardev.log {
            w.empty("log", [("file", log.file), ("append", onOff(log.append))])
        }
    }

    private static func writeTarget(_ target: ChardevTarget, into w: inout LibvirtXMLWriter) {
        switch target {
        case .serial(let type, let model, let port):
            let attrs: [(String, String?)] = [("type", type == .none ? nil : type.rawValue), ("port", String(port))]
            if model == .none {
                w.empty("target", attrs)
            } else {
                w.element("target", attrs) { w in w.empty("model", [("name", model.rawValue)]) }
            }
        case .parallel(let port):
            w.empty("target", [("port", String(port))])
        case .console(let type, let port):
            w.empty("target", [("type", type.rawValue), ("port", String(port))])
        case .virtioChannel(let name, let state):
            // The state is live-only: define drops it, so only a running guest's XML carries one.
            w.empty("target", [("type", "virtio"), ("name", name), ("state", state?.rawValue)])
        case .xenChannel(let name):
            w.empty("target", [("type", "xen"), ("name", name)])
        case .noneChannel:
            w.empty("target", [("type", "none")])
        case .guestfwd(let address, let port):
            w.empty("target", [("type", "guestfwd"), ("address", IPv4Address.parse(address)?.text ?? address),
                               ("port", String(UInt16(truncatingIfNeeded: port)))])
        }
    }
}

/// Writes `<address type=...>` as libvirt's `virDomainDeviceInfoFormat` does.
enum AddressFormatter {
    /// `0x` and `value` in lower-case hex, zero-padded to `width` digits.
    static func hex(_ value: UInt32, width: Int) -> String {
        var out = UTF8Buffer(capacity: 10)
        out.append(0x30)
        out.append(0x78)
        out.append(hex: value, width: width)
        return out.string
    }

    static func write(_ address: DeviceAddress, into w: inout LibvirtXMLWriter) {
        switch address {
        case .pci(let domain, let bus, let slot, let function, let multifunction):
            w.empty("address", [("type", "pci"), ("domain", hex(domain, width: 4)), ("bus", hex(bus, width: 2)),
                                ("slot", hex(slot, width: 2)), ("function", hex(function, width: 1)),
                                ("multifunction", multifunction.map { $0 ? "on" : "off" })])
        case .virtioSerial(let controller, let bus, let port):
            w.empty("address", [("type", "virtio-serial"), ("controller", String(controller)), ("bus", String(bus)),
                                ("port", String(port))])
        case .isa(let iobase, let irq):
            w.empty("address", [("type", "isa"), ("iobase", iobase.flatMap { $0 > 0 ? hex($0, width: 1) : nil }),
                                ("irq", irq.flatMap { $0 > 0 ? hex($0, width: 1) : nil })])
        case .usb(let bus, let port):
            w.empty("address", [("type", "usb"), ("bus", String(bus)), ("port", port)])
        }
    }
}
