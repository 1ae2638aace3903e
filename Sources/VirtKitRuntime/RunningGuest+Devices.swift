import Foundation
import SystemPackage
import VirtKitModel
import VirtKitDomain
import VirtKitHost
import VirtKitQEMU
import VirtKitQMP

/// `attach-device` and `detach-device` of chardev devices on a running guest: virtio channels and
/// consoles, pci-serial and usb-serial, as libvirt hot-plugs them (`chardev-add` + `device_add`;
/// `device_del`, DEVICE_DELETED, then `chardev-remove`), with the broker attached for pty and
/// bind-mode unix sources and the live XML updated.
extension RunningGuest {
    /// A device XML read against the live definition.
    struct DevicePlan {
        /// The live definition with the device in it.
        var domain: Domain
        var kind: String
        var alias: String
        var chardev: Chardev
    }

    /// Reads one `<serial>`, `<console>` or `<channel>` element as `define` would read it in
    /// this domain (defaults, addresses, alias).
    func plan(deviceXML: String) throws(RuntimeError) -> DevicePlan {
        let current = domain
        let text = DomainFormatter.format(current)
        guard let range = text.range(of: "</devices>", options: .backwards) else {
            throw RuntimeError(.internalError, "internal error: the live definition has no <devices>")
        }
        let merged = text.replacingCharacters(in: range, with: deviceXML.trimmingCharacters(in: .whitespacesAndNewlines) + "\n  </devices>")
        let next: Domain
        do {
            next = try DomainParser.define(xml: merged)
        } catch {
            throw RuntimeError(.xmlError, error.message)
        }
        let before = Set(QEMUCommandLineBuilder.aliasedChardevs(current.devices).map(\.alias))
        let added = QEMUCommandLineBuilder.aliasedChardevs(next.devices).filter { !before.contains($0.alias) }
        guard added.count == 1, let device = added.first,
              next.devices.disks.count == current.devices.disks.count,
              next.devices.interfaces.count == current.devices.interfaces.count else {
            throw RuntimeError(.configUnsupported,
                           "unsupported configuration: attach-device and detach-device take one <serial>, <console> or <channel> element with a chardev of its own")
        }
        guard next.devices.controllers.count == current.devices.controllers.count else {
            throw RuntimeError(.configUnsupported,
                           "unsupported configuration: the device needs a controller the guest does not have, and controllers cannot be hot-plugged")
        }
        return DevicePlan(domain: next, kind: device.kind, alias: device.alias, chardev: device.chardev)
    }

    /// Hot-plugs the device; on any failure what was added is taken away again.
    func attachDevice(xml: String, settings: ConsoleSettings) async throws(RuntimeError) {
        let plan = try plan(deviceXML: xml)
        if case .guestfwd = plan.chardev.target {
            throw RuntimeError(.configUnsupported,
                           "unsupported configuration: a guestfwd channel cannot be hot-plugged: QEMU adds guestfwd rules only with a new user netdev, which no NIC of the guest reaches")
        }
        let status = snapshot
        let directory = status.guestDirectory
        let paths = QEMUPaths(domainDirectory: directory, channelDirectory: directory)
        let builder = QEMUCommandLineBuilder(paths: paths, mode: .start(firstFD: 3))
        var record = BrokeredChardev.plan(domain: plan.domain, builder: builder, guestDirectory: directory,
                                          logDirectory: layout.logDirectory, settings: settings).first { $0.alias == plan.alias }
        let chardevID = "char" + plan.alias
        let deviceJSON: String
        let backend: QMP.Value
        do {
            deviceJSON = try QEMUCommandLineBuilder.hotplugDevice(plan.chardev, alias: plan.alias, domain: plan.domain)
            backend = try Self.backend(plan.chardev, peerSocket: record?.peerSocket)
        } catch {
            throw RuntimeError(.configUnsupported, error.message)
        }

        // The domain's socket path first: a path in use fails before QEMU is touched.
        var listening: FileDescriptor?
        if let path = record?.path {
            do { listening = try UnixSocket.listen(at: FilePath(path), mode: [.ownerReadWrite]) } catch {
                throw RuntimeError(.operationFailed, "operation failed: \(error)", cause: error)
            }
        }
        var added = false
        var entry: GuestBrokers.Entry?
        func undo() async {
            try? listening?.close()
            if let entry { await GuestBrokers.stop(entry, guestDirectory: directory) } else if let path = record?.path {
                UnixSocket.remove(at: FilePath(path))
            }
            if added { _ = try? await qmp.execute("chardev-remove", arguments: .object(["id": .string(chardevID)])) }
        }
        do throws(any Error) {
            let reply = try await qmp.execute("chardev-add", arguments: .object(["id": .string(chardevID), "backend": backend]))
            added = true
            if record != nil, record?.peerSocket == nil {
                guard let pty = reply["pty"]?.string else { throw QMP.Error.malformed(raw: "chardev-add gave no pty") }
                record?.pty = pty
            }
            if let record {
                let bound = listening
                listening = nil
                entry = try await GuestBrokers.startOne(record, guestName: domain.name, guestDirectory: directory,
                                                        socketGroup: nil, logger: logger, listening: bound)
            }
            _ = try await qmp.execute("device_add", arguments: try QMP.Value(json: deviceJSON))
        } catch {
            await undo()
            throw RuntimeError(.operationFailed, "operation failed: cannot attach device \(plan.alias): \(error)", cause: error)
        }
        setLiveDomain(plan.domain)
        if let entry, let brokers { setBrokers(brokers.adding(entry)) }
        update { status in
            if let record {
                status.brokered = (status.brokered ?? []) + [record]
                if let pty = record.pty { status.ptys[plan.alias] = pty }
                if let path = record.path { status.createdSockets.append(path) }
                if let peer = record.peerSocket { status.createdSockets.append(peer) }
            }
        }
        logger.info("attached \(plan.kind) \(plan.alias)", metadata: ["domain": "\(domain.name)"])
    }

    /// Hot-unplugs the device the XML names (by its alias, else by kind, target and source).
    func detachDevice(xml: String) async throws(RuntimeError) {
        let plan = try plan(deviceXML: xml)
        let current = domain
        let candidates = QEMUCommandLineBuilder.aliasedChardevs(current.devices).filter { $0.kind == plan.kind }
        let found = candidates.last { entry in
            if let alias = plan.chardev.alias { return entry.alias == alias }
            switch (entry.chardev.target, plan.chardev.target) {
            case (.virtioChannel(let a, _), .virtioChannel(let b, _)): return a == b && entry.chardev.source == plan.chardev.source
            case (.console(let a, _), .console(let b, _)): return a == b && entry.chardev.source == plan.chardev.source
            case (.serial(let a, let m, _), .serial(let b, let n, _)): return a == b && m == n && entry.chardev.source == plan.chardev.source
            default: return false
            }
        }
        guard let found else {
            throw RuntimeError(.operationFailed, "operation failed: matching device not found")
        }
        let alias = found.alias
        let events = qmp.events()
        do {
            _ = try await qmp.execute("device_del", arguments: .object(["id": .string(alias)]))
        } catch {
            throw RuntimeError(.operationFailed, "operation failed: cannot detach device \(alias): \(error)", cause: error)
        }
        let deleted = await Self.waitForDeletion(of: alias, events: events, timeout: .seconds(15))
        guard deleted else {
            throw RuntimeError(.operationTimeout, "operation timed out: the guest did not release device \(alias) within 15 s")
        }
        if let entry = brokers?.entries.first(where: { $0.record.alias == alias }) {
            await GuestBrokers.stop(entry, guestDirectory: snapshot.guestDirectory)
            if let brokers { setBrokers(brokers.removing(alias)) }
        }
        _ = try? await qmp.execute("chardev-remove", arguments: .object(["id": .string("char" + alias)]))
        var next = current
        func drop(_ list: inout [Chardev], prefix: String) {
            if let index = list.indices.first(where: { (list[$0].alias ?? prefix + String($0)) == alias }) { list.remove(at: index) }
        }
        switch found.kind {
        case "serial": drop(&next.devices.serials, prefix: "serial")
        case "channel": drop(&next.devices.channels, prefix: "channel")
        case "console": drop(&next.devices.consoles, prefix: "console")
        default: drop(&next.devices.parallels, prefix: "parallel")
        }
        setLiveDomain(next)
        update { status in
            let record = status.brokered?.first { $0.alias == alias }
            status.brokered?.removeAll { $0.alias == alias }
            status.ptys[alias] = nil
            status.createdSockets.removeAll { $0 == record?.path || $0 == record?.peerSocket }
            if case .virtioChannel(let name?, _) = found.chardev.target { status.channels[name] = nil }
        }
        logger.info("detached \(found.kind) \(alias)", metadata: ["domain": "\(domain.name)"])
    }

    /// True once QEMU reports DEVICE_DELETED for `alias`, false after `timeout`.
    static func waitForDeletion(of alias: String, events: AsyncStream<QMP.Event>, timeout: Duration) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for await event in events where event.kind == .deviceDeleted && event.data["device"]?.string == alias {
                    return true
                }
                return false
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    /// `chardev-add`'s backend for the sources VirtKit hot-plugs.
    static func backend(_ chardev: Chardev, peerSocket: String?) throws(QEMUCommandLineError) -> QMP.Value {
        func socket(_ path: String, server: Bool) -> QMP.Value {
            var data: QMP.Value.Object = ["addr": .object(["type": "unix", "data": .object(["path": .string(path)])]),
                                          "server": .bool(server)]
            if server { data["wait"] = .bool(false) }
            return .object(["type": "socket", "data": .object(data)])
        }
        switch chardev.source {
        case .pty: return .object(["type": "pty", "data": .object([:])])
        case .null: return .object(["type": "null", "data": .object([:])])
        case .file(let path?, let append):
            return .object(["type": "file", "data": .object(["out": .string(path), "append": .bool(append == true)])])
        case .unix(let unix) where unix.mode == .bind:
            guard let peerSocket else { throw QEMUCommandLineError("internal error: no socket for the bind-mode source") }
            return socket(peerSocket, server: true)
        case .unix(let unix):
            guard let path = unix.path else { throw QEMUCommandLineError("unsupported configuration: a connect-mode unix source needs a path") }
            return socket(path, server: false)
        default:
            throw QEMUCommandLineError(
                "unsupported configuration: hot-plug of a chardev with source type '\(chardev.source.typeName)' is not supported (pty, unix, file and null are)")
        }
    }
}
