import VirtKitDomain

/// Builds a chardev's `-chardev` value as libvirt 9.0's `qemuBuildChardevStr` does, and the
/// arguments that go before it (`-object tls-creds-x509`, `-add-fd`).
struct ChardevBackend {
    /// Path of a UNIX socket after defaults (generated for path-less virtio channels).
    var unixPath: String?
    var descriptors: DescriptorPlanner.ChardevDescriptors?
    var paths: QEMUPaths

    /// libvirt's `virQEMUBuildBufferEscapeComma`: commas doubled.
    static func escapeComma(_ text: String) -> String {
        let hasComma = text.utf8.withContiguousStorageIfAvailable { $0.contains(0x2C) } ?? text.utf8.contains(0x2C)
        guard hasComma else { return text }
        return text.contains(",") ? text.split(separator: ",", omittingEmptySubsequences: false).joined(separator: ",,") : text
    }

    private static func onOff(_ value: Bool) -> String { value ? "on" : "off" }

    func arguments(for chardev: Chardev, id: String) throws(QEMUCommandLineError) -> [String] {
        var (args, tlsAlias) = objectArguments(for: chardev, id: id)
        var value = UTF8Buffer(capacity: 96)
        try appendBackend(chardev.source, id: id, tlsAlias: tlsAlias, to: &value)
        appendLog(chardev.log, to: &value)
        args.append("-chardev")
        args.append(value.string)
        return args
    }

    /// What goes before `-chardev`: the TLS credentials object, the fd sets.
    private func objectArguments(for chardev: Chardev, id: String) -> (arguments: [String], tlsAlias: String?) {
        var args: [String] = []
        var tlsAlias: String?
        if case .tcp(let tcp) = chardev.source, tcp.tls == true {
            let alias = "obj" + id + "_tls0"
            var object = JSONObject()
            object.add("qom-type", "tls-creds-x509")
            object.add("id", alias)
            object.add("dir", paths.chardevTLSCertDirectory)
            object.add("endpoint", tcp.mode == .bind ? "server" : "client")
            object.add("verify-peer", tcp.mode == .bind ? paths.chardevTLSVerifyPeer : true)
            args += ["-object", object.string]
            tlsAlias = alias
        }
        if let source = descriptors?.source, let set = source.fdset {
            args += ["-add-fd", "set=\(set),fd=\(source.number),opaque=\(source.label)"]
        }
        if let log = descriptors?.log, let set = log.fdset {
            args += ["-add-fd", "set=\(set),fd=\(log.number),opaque=\(log.label)"]
        }
        return (args, tlsAlias)
    }

    /// The backend and its options: `socket,id=charserial0,path=...`.
    private func appendBackend(_ source: ChardevSource, id: String, tlsAlias: String?,
                               to value: inout UTF8Buffer) throws(QEMUCommandLineError) {
        func start(_ backend: String) {
            value.append(backend)
            value.append(",id=")
            value.append(id)
        }
        func option(_ name: String, _ text: String) {
            value.append(name)
            value.append(text)
        }
        func option(_ name: String, escaped text: String) {
            value.append(name)
            value.append(Self.escapeComma(text))
        }
        switch source {
        case .null: start("null")
        case .vc: start("vc")
        case .pty: start("pty")
        case .stdio: start("stdio")
        case .dev(let path):
            start(id.hasPrefix("charparallel") ? "parallel" : "serial")
            option(",path=", escaped: path ?? "")
        case .pipe(let path):
            start("pipe")
            option(",path=", escaped: path ?? "")
        case .file(let path, let append):
            start("file")
            if let source = descriptors?.source, let set = source.fdset {
                value.append(",path=/dev/fdset/")
                value.append(decimal: set)
                value.append(",append=on")
            } else {
                option(",path=", escaped: path ?? "")
                if let append { option(",append=", Self.onOff(append)) }
            }
        case .udp(let udp):
            start("udp")
            option(",host=", udp.connectHost ?? "")
            option(",port=", udp.connectService ?? "")
            option(",localaddr=", udp.bindHost ?? "")
            option(",localport=", udp.bindService ?? "0")
        case .tcp(let tcp):
            start("socket")
            option(",host=", tcp.host ?? "")
            option(",port=", tcp.service ?? "")
            if tcp.protocol == .telnet { value.append(",telnet=on") }
            if tcp.mode == .bind { value.append(",server=on,wait=off") }
            Self.appendReconnect(tcp.reconnect, to: &value)
            if let tlsAlias { option(",tls-creds=", tlsAlias) }
        case .unix(let unix):
            start("socket")
            if let source = descriptors?.source, source.fdset == nil {
                value.append(",fd=")
                value.append(decimal: Int(source.number))
            } else {
                option(",path=", escaped: unixPath ?? unix.path ?? "")
            }
            if unix.mode == .bind { value.append(",server=on,wait=off") }
            Self.appendReconnect(unix.reconnect, to: &value)
        case .spicevmc:
            start("spicevmc")
            value.append(",name=vdagent")
        case .spiceport(let channel):
            start("spiceport")
            option(",name=", channel ?? "")
        case .dbus(let channel):
            start("dbus")
            option(",name=", channel ?? "")
        case .qemuVdagent(let clipboard, let mouse):
            start("qemu-vdagent")
            value.append(",name=vdagent")
            if let clipboard { option(",clipboard=", Self.onOff(clipboard)) }
            if let mouse { value.append(mouse == .client ? ",mouse=on" : ",mouse=off") }
        case .nmdm:
            throw QEMUCommandLineError("unsupported configuration: unsupported chardev 'nmdm'")
        }
    }

    /// `logfile=` and `logappend=`.
    private func appendLog(_ log: ChardevLog?, to value: inout UTF8Buffer) {
        func option(_ name: String, _ text: String) {
            value.append(name)
            value.append(text)
        }
        if let log {
            if let planned = descriptors?.log, let set = planned.fdset {
                value.append(",logfile=/dev/fdset/")
                value.append(decimal: set)
                value.append(",logappend=on")
            } else {
                option(",logfile=", Self.escapeComma(log.file))
                if let append = log.append { option(",logappend=", Self.onOff(append)) }
            }
        }
    }

    private static func appendReconnect(_ reconnect: ChardevReconnect, to value: inout UTF8Buffer) {
        switch reconnect.enabled {
        case true?:
            value.append(",reconnect=")
            value.append(decimal: UInt64(reconnect.timeout))
        case false?: value.append(",reconnect=0")
        case nil: break
        }
    }
}
