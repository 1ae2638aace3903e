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
        text.contains(",") ? text.split(separator: ",", omittingEmptySubsequences: false).joined(separator: ",,") : text
    }

    private static func onOff(_ value: Bool) -> String { value ? "on" : "off" }

    func arguments(for chardev: Chardev, id: String) throws(QEMUCommandLineError) -> [String] {
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
        var value: String
        switch chardev.source {
        case .null: value = "null,id=\(id)"
        case .vc: value = "vc,id=\(id)"
        case .pty: value = "pty,id=\(id)"
        case .stdio: value = "stdio,id=\(id)"
        case .dev(let path):
            let backend = id.hasPrefix("charparallel") ? "parallel" : "serial"
            value = "\(backend),id=\(id),path=" + Self.escapeComma(path ?? "")
        case .pipe(let path):
            value = "pipe,id=\(id),path=" + Self.escapeComma(path ?? "")
        case .file(let path, let append):
            value = "file,id=\(id),path="
            if let source = descriptors?.source, let set = source.fdset {
                value += "/dev/fdset/\(set),append=on"
            } else {
                value += Self.escapeComma(path ?? "")
                if let append { value += ",append=" + Self.onOff(append) }
            }
        case .udp(let udp):
            value = "udp,id=\(id),host=\(udp.connectHost ?? ""),port=\(udp.connectService ?? ""),"
                + "localaddr=\(udp.bindHost ?? ""),localport=\(udp.bindService ?? "0")"
        case .tcp(let tcp):
            value = "socket,id=\(id),host=\(tcp.host ?? ""),port=\(tcp.service ?? "")"
            if tcp.protocol == .telnet { value += ",telnet=on" }
            if tcp.mode == .bind { value += ",server=on,wait=off" }
            value += Self.reconnect(tcp.reconnect)
            if let tlsAlias { value += ",tls-creds=" + tlsAlias }
        case .unix(let unix):
            value = "socket,id=\(id)"
            if let source = descriptors?.source, source.fdset == nil {
                value += ",fd=\(source.number)"
            } else {
                value += ",path=" + Self.escapeComma(unixPath ?? unix.path ?? "")
            }
            if unix.mode == .bind { value += ",server=on,wait=off" }
            value += Self.reconnect(unix.reconnect)
        case .spicevmc: value = "spicevmc,id=\(id),name=vdagent"
        case .spiceport(let channel): value = "spiceport,id=\(id),name=\(channel ?? "")"
        case .dbus(let channel): value = "dbus,id=\(id),name=\(channel ?? "")"
        case .qemuVdagent(let clipboard, let mouse):
            value = "qemu-vdagent,id=\(id),name=vdagent"
            if let clipboard { value += ",clipboard=" + Self.onOff(clipboard) }
            if let mouse { value += mouse == .client ? ",mouse=on" : ",mouse=off" }
        case .nmdm:
            throw QEMUCommandLineError("unsupported configuration: unsupported chardev 'nmdm'")
        }
        if let log = chardev.log {
            if let planned = descriptors?.log, let set = planned.fdset {
                value += ",logfile=/dev/fdset/\(set),logappend=on"
            } else {
                value += ",logfile=" + Self.escapeComma(log.file)
                if let append = log.append { value += ",logappend=" + Self.onOff(append) }
            }
        }
        args += ["-chardev", value]
        return args
    }

    private static func reconnect(_ reconnect: ChardevReconnect) -> String {
        switch reconnect.enabled {
        case true?: return ",reconnect=\(reconnect.timeout)"
        case false?: return ",reconnect=0"
        case nil: return ""
        }
    }
}
