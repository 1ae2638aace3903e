import VirtKitDomain
import VirtKitQEMU

/// The live XML of a running guest (`virsh dumpxml` without --inactive): the definition as it
/// started, with the runtime id on `<domain>`, the generated socket paths of path-less channels,
/// the pty paths QEMU allocated (`<source path>`, and `tty` on consoles, as libvirt writes them)
/// and each virtio channel's state.
enum LiveXML {
    static func format(_ domain: Domain, status: GuestStatus, paths: QEMUPaths) -> String {
        var live = domain
        for i in live.devices.interfaces.indices {
            live.devices.interfaces[i].linkDown = status.linksDown?.contains("net\(i)") == true
            guard let tap = status.taps?["net\(i)"] else { continue }
            live.devices.interfaces[i].targetDev = tap.name
            live.devices.interfaces[i].sourceBridge = tap.bridge
        }
        for i in live.devices.channels.indices {
            let channel = live.devices.channels[i]
            guard case .virtioChannel(let name, _) = channel.target else { continue }
            if case .unix(var unix) = channel.source, unix.path == nil, let name {
                unix.path = paths.channelDirectory + "/" + name
                live.devices.channels[i].source = .unix(unix)
            }
            if let name, let open = status.channels[name] {
                live.devices.channels[i].target = .virtioChannel(name: name, state: open ? .connected : .disconnected)
            }
        }
        var xml = DomainFormatter.format(live)
        if let range = xml.range(of: "<domain type='\(domain.virtType.rawValue)'") {
            xml.replaceSubrange(range, with: "<domain type='\(domain.virtType.rawValue)' id='\(status.id)'")
        }
        return insertPTYPaths(xml, ptys: ptyPathsInDocumentOrder(domain, status: status))
    }

    /// The pty path of each `type='pty'` element in the order the formatter writes them
    /// (serials, parallels, consoles, channels); nil where QEMU reported none.
    static func ptyPathsInDocumentOrder(_ domain: Domain, status: GuestStatus) -> [String?] {
        var paths: [String?] = []
        let devices = domain.devices
        for (i, chardev) in devices.serials.enumerated() where isPTY(chardev) {
            paths.append(status.ptys[chardev.alias ?? "serial\(i)"])
        }
        for (i, chardev) in devices.parallels.enumerated() where isPTY(chardev) {
            paths.append(status.ptys[chardev.alias ?? "parallel\(i)"])
        }
        for (i, chardev) in devices.consoles.enumerated() where isPTY(chardev) {
            if case .console(.serial, _) = chardev.target, let serial = devices.serials.first {
                paths.append(status.ptys[serial.alias ?? "serial0"])
            } else {
                paths.append(status.ptys[chardev.alias ?? "console\(i)"])
            }
        }
        for (i, chardev) in devices.channels.enumerated() where isPTY(chardev) {
            paths.append(status.ptys[chardev.alias ?? "channel\(i)"])
        }
        return paths
    }

    static func isPTY(_ chardev: Chardev) -> Bool {
        if case .pty = chardev.source { return true }
        return false
    }

    /// Adds `<source path='...'/>` inside each pty element (and `tty='...'` on a console).
    static func insertPTYPaths(_ xml: String, ptys: [String?]) -> String {
        var lines = xml.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var next = 0
        var i = 0
        while i < lines.count, next < ptys.count {
            let trimmed = lines[i].drop(while: { $0 == " " })
            let opening = ["<serial type='pty'", "<parallel type='pty'", "<console type='pty'", "<channel type='pty'"]
            guard opening.contains(where: { trimmed.hasPrefix($0) }) else {
                i += 1
                continue
            }
            if let path = ptys[next] {
                let escaped = escape(path)
                if trimmed.hasPrefix("<console"), let close = lines[i].lastIndex(of: ">") {
                    lines[i].insert(contentsOf: " tty='\(escaped)'", at: close)
                }
                let indent = String(repeating: " ", count: lines[i].prefix(while: { $0 == " " }).count + 2)
                lines.insert(indent + "<source path='\(escaped)'/>", at: i + 1)
                i += 1
            }
            next += 1
            i += 1
        }
        return lines.joined(separator: "\n")
    }

    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "'", with: "&apos;")
            .replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
