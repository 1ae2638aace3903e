import Foundation
import SystemPackage
import Testing
import VirtKitAPI
import VirtKitClient
import VirtKitHost
import VirtKitTestSupport

/// libvirt's networks on real bridges, taps, nftables and dnsmasq, each test in a network
/// namespace of its own with virtkitd running inside it.
@Suite("networks: bridges, dnsmasq, nftables and guests on them", .tags(.qemu), .serialized)
struct NetworkTests {
    /// libvirt's default network, as Debian's libvirt-daemon-config-network installs it
    /// (Examples/default-network.xml, which the README's tour and the network benchmark use).
    static let defaultNetworkFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Examples/default-network.xml").standardizedFileURL.path

    static let onDefault = "<interface type='network'><source network='default'/><model type='virtio'/></interface>"

    @Test("the default network: two guests get leases, reach the gateway, each other and a TCP service; a daemon kill keeps it all; net-destroy leaves nothing")
    func defaultNetworkCarriesGuests() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let namespace = try await NetworkNamespace()
        defer { namespace.remove() }
        var (daemon, client) = try await DaemonProcessTests.startDaemon(harness, netns: namespace.name)
        let file = Self.defaultNetworkFile
        var (status, out, err) = try await DaemonProcessTests.cli(harness, ["net-define", file])
        #expect(status == 0 && out == "Network default defined from \(file)\n\n", "\(out)\(err)")
        (status, out, err) = try await DaemonProcessTests.cli(harness, ["net-start", "default"])
        #expect(status == 0 && out == "Network default started\n\n", "\(out)\(err)")
        #expect(try await namespace.links().contains("virbr0"))
        #expect(try await namespace.ruleset().contains("table inet virtkit_virbr0"))
        let xml = try client.networkXML("default", inactive: false)
        #expect(xml.contains("<forward mode='nat'/>") && xml.contains("<bridge name='virbr0' stp='on' delay='0'/>")
                && xml.contains("<mac address='52:54:00:"), "\(xml)")

        var serials: [SocketReader] = []
        for name in ["net-a", "net-b"] {
            _ = try client.define(xml: harness.domainXML(name: name, extraDevices: Self.onDefault))
            try client.start(name, paused: false)
            serials.append(try SocketReader(connectingTo: harness.serialPath(name)))
        }
        defer { daemon.send(signal: SIGKILL) }
        for serial in serials { try await GuestForwardTests.waitForShell(serial) }
        let leases = try await Self.waitForLeases(client, count: 2)
        #expect(leases.allSatisfy { $0.address.hasPrefix("192.168.122.") && $0.prefix == 24 && $0.interface == "virbr0" })
        let peer = try #require(leases.first { $0.mac != leases[0].mac }?.address)

        try await Self.expect(serials[0], "ping -c 2 -W 3 192.168.122.1 >/dev/null && echo GW-$((1+1))-OK", "GW-2-OK")
        try await Self.expect(serials[0], "ping -c 2 -W 3 \(peer) >/dev/null && echo PEER-$((1+1))-OK", "PEER-2-OK")
        // A TCP service in the namespace, on the bridge's address: it answers in upper case.
        let service = try await ServiceInNamespace(namespace, port: 7777)
        defer { service.stop() }
        try await Self.expect(serials[0], "echo hello | nc -w 3 192.168.122.1 7777", "HELLO")

        (status, out, err) = try await DaemonProcessTests.cli(harness, ["net-dhcp-leases", "default"])
        #expect(status == 0 && out.contains(" MAC address ") && out.contains("\(peer)/24") && out.contains(" ipv4 "), "\(out)\(err)")

        // net-a's own lease: the one whose MAC its definition has.
        let macA = try #require(client.xml("net-a", inactive: true).split(separator: "'").first { $0.hasPrefix("52:54:00:") })
        let lease = try #require(leases.first { $0.mac == macA })
        (status, out, err) = try await DaemonProcessTests.cli(harness, ["domiflist", "net-a"])
        #expect(status == 0 && out.hasPrefix(" Interface   Type      Source    Model    MAC\n")
                && out.contains(" vnet") && out.contains("   network   default   virtio   \(lease.mac)\n"), "\(out)\(err)")
        (status, out, err) = try await DaemonProcessTests.cli(harness, ["domifaddr", "net-a"])
        #expect(status == 0 && out.contains(" Name       MAC address          Protocol     Address\n")
                && out.contains("\(lease.mac)    ipv4         \(lease.address)/24\n"), "\(out)\(err)")

        // The link down and up again, as the guest sees it.
        let tap = try #require(try client.xml("net-a", inactive: false).split(separator: "'").first { $0.hasPrefix("vnet") }.map(String.init))
        (status, out, err) = try await DaemonProcessTests.cli(harness, ["domif-setlink", "net-a", tap, "down"])
        #expect(status == 0 && out == "Device updated successfully\n\n", "\(out)\(err)")
        #expect(try client.xml("net-a", inactive: false).contains("<link state='down'/>"))
        try await Self.expect(serials[0], "echo CARRIER-$(cat /sys/class/net/eth0/carrier)-SEEN", "CARRIER-0-SEEN")
        (status, out, err) = try await DaemonProcessTests.cli(harness, ["domif-setlink", "net-a", lease.mac, "up"])
        #expect(status == 0, "\(out)\(err)")
        #expect(!(try client.xml("net-a", inactive: false).contains("<link state='down'/>")))
        try await Self.expect(serials[0], "echo CARRIER-$(cat /sys/class/net/eth0/carrier)-SEEN", "CARRIER-1-SEEN")

        // kill -9: the network, its dnsmasq and the guests' traffic go on; the next daemon
        // re-attaches.
        daemon.send(signal: SIGKILL)
        _ = await ProcessExitWatcher.waitForExit(daemon)
        (daemon, client) = try await DaemonProcessTests.startDaemon(harness, netns: namespace.name)
        #expect(try client.networkInfo("default").active)
        // A console client's connection goes with the daemon that served it: connect again.
        let again = try SocketReader(connectingTo: harness.serialPath("net-b"))
        try await Self.expect(again, "ping -c 2 -W 3 192.168.122.1 >/dev/null && echo AFTER-$((1+1))-OK", "AFTER-2-OK")

        for name in ["net-a", "net-b"] { _ = try client.perform(.destroy, name) }
        (status, out, err) = try await DaemonProcessTests.cli(harness, ["net-destroy", "default"])
        #expect(status == 0 && out == "Network default destroyed\n\n", "\(out)\(err)")
        // Nothing left: no link but lo, no rule, no dnsmasq, no run file.
        #expect(try await namespace.links() == ["lo"])
        #expect(try await namespace.ruleset().trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
        #expect(GuestHarness.processes(mentioning: harness.root.string + "/run/networks").isEmpty, "dnsmasq is gone")
        let runFiles = (try? FileManager.default.contentsOfDirectory(atPath: harness.layout.runDirectory.appending("networks").string)) ?? []
        #expect(runFiles.isEmpty, "left: \(runFiles)")
        (status, out, _) = try await DaemonProcessTests.cli(harness, ["net-list", "--all"])
        #expect(out.contains(" default   inactive   no          yes"), "\(out)")
    }

    @Test("a bridge interface on a bridge of the host's: a named tap plugged in and gone with the guest; clashes refused, nothing left")
    func bridgeInterfaceAndClashes() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let namespace = try await NetworkNamespace()
        defer { namespace.remove() }
        try await namespace.run(["ip", "-n", namespace.name, "link", "add", "vkbr0", "type", "bridge"])
        try await namespace.run(["ip", "-n", namespace.name, "addr", "add", "10.99.0.1/24", "dev", "vkbr0"])
        try await namespace.run(["ip", "-n", namespace.name, "link", "set", "vkbr0", "up"])
        // What a daemon killed in the middle of a network's start left: its bridge and table,
        // recorded as an incomplete start. The next daemon removes them.
        try await namespace.run(["ip", "-n", namespace.name, "link", "add", "vkhalf", "type", "bridge"])
        try await namespace.exec(["nft", "add", "table", "inet", "virtkit_vkhalf"])
        let half = #"{"bridge":"vkhalf","complete":false,"ownsBridge":true,"table":"virtkit_vkhalf","transient":true,"#
            + #""xml":"<network><name>half</name><bridge name='vkhalf'/></network>"}"#
        try AtomicFile.makeDirectory(harness.layout.runDirectory.appending("networks"))
        try AtomicFile.write(half, to: harness.layout.runDirectory.appending("networks/half.json"))
        let (daemon, client) = try await DaemonProcessTests.startDaemon(harness, netns: namespace.name)
        defer { daemon.send(signal: SIGKILL) }
        #expect(try await namespace.links().sorted() == ["lo", "vkbr0"], "the half-made bridge is gone")
        #expect(try await namespace.ruleset().trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
        #expect(try client.networks().isEmpty)

        let nic = "<interface type='bridge'><source bridge='vkbr0'/><target dev='vkguest0'/><model type='virtio'/></interface>"
        _ = try client.define(xml: harness.domainXML(name: "bridged", extraDevices: nic))
        try client.start("bridged", paused: false)
        let ports = try await namespace.run(["ip", "-n", namespace.name, "-br", "link", "show", "master", "vkbr0"])
        #expect(ports.hasPrefix("vkguest0"), "\(ports)")
        let live = try client.xml("bridged", inactive: false)
        #expect(live.contains("<source bridge='vkbr0'/>") && live.contains("<target dev='vkguest0'/>"), "\(live)")
        _ = try client.perform(.destroy, "bridged")
        #expect(try await namespace.links().sorted() == ["lo", "vkbr0"], "the tap went with the guest")

        // A network whose bridge name is a host link, or whose subnet the host routes: refused,
        // and nothing of it is left.
        _ = try client.defineNetwork(xml: "<network><name>taken</name><bridge name='vkbr0'/><ip address='10.98.0.1' prefix='24'/></network>")
        #expect(throws: APIError.self) { try client.networkAction("taken", start: true) }
        do { _ = try client.networkAction("taken", start: true) } catch {
            #expect(error.message.contains("a link named 'vkbr0' exists on the host already"), "\(error.message)")
        }
        _ = try client.defineNetwork(xml: "<network><name>routed</name><bridge name='vkother'/><ip address='10.99.0.2' prefix='24'><dhcp><range start='10.99.0.10' end='10.99.0.20'/></dhcp></ip></network>")
        do {
            _ = try client.networkAction("routed", start: true)
            Issue.record("a subnet the host routes was accepted")
        } catch {
            #expect(error.message == "internal error: Network is already in use by interface vkbr0", "\(error.message)")
        }
        #expect(try await namespace.links().sorted() == ["lo", "vkbr0"])
        #expect(try await namespace.ruleset().trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
        // A guest on a network that is not active is refused before anything is made.
        _ = try client.define(xml: harness.domainXML(name: "orphan", extraDevices:
            "<interface type='network'><source network='routed'/><model type='virtio'/></interface>"))
        do {
            try client.start("orphan", paused: false)
            Issue.record("a guest started on an inactive network")
        } catch {
            #expect(error.message == "Requested operation is not valid: network 'routed' is not active", "\(error.message)")
        }
        #expect(harness.leftovers().isEmpty, "left: \(harness.leftovers())")
    }

    @Test("virsh's network verbs through libvirt's protocol: define, list, info, autostart, start, dumpxml, leases, destroy, undefine")
    func virshNetworkVerbs() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let namespace = try await NetworkNamespace()
        defer { namespace.remove() }
        let (daemon, _) = try await DaemonProcessTests.startDaemon(harness, netns: namespace.name)
        defer { daemon.send(signal: SIGKILL) }
        let file = Self.defaultNetworkFile
        func virsh(_ arguments: String...) async throws -> String {
            let (status, out, err) = try await LibvirtProtocolTests.virsh(harness, arguments)
            #expect(status == 0, "virsh \(arguments.joined(separator: " ")): \(out)\(err)")
            return out
        }
        #expect(try await virsh("net-define", file) == "Network default defined from \(file)\n\n")
        #expect(try await virsh("net-list", "--all") == """
             Name      State      Autostart   Persistent
            ----------------------------------------------
             default   inactive   no          yes


            """)
        #expect(try await virsh("net-autostart", "default") == "Network default marked as autostarted\n\n")
        #expect(try await virsh("net-start", "default") == "Network default started\n\n")
        let info = try await virsh("net-info", "default")
        #expect(info.contains("Name:           default\n") && info.contains("Active:         yes\n")
                && info.contains("Autostart:      yes\n") && info.contains("Bridge:         virbr0\n"), "\(info)")
        #expect(try await virsh("net-dumpxml", "default").contains("<bridge name='virbr0' stp='on' delay='0'/>"))
        #expect(try await virsh("net-dhcp-leases", "default").hasPrefix(" Expiry Time   MAC address   Protocol   IP address"))
        #expect(try await virsh("net-destroy", "default") == "Network default destroyed\n\n")
        #expect(try await namespace.links() == ["lo"])
        #expect(try await virsh("net-undefine", "default") == "Network default has been undefined\n\n")
        let (status, _, err) = try await LibvirtProtocolTests.virsh(harness, ["net-info", "default"])
        #expect(status != 0 && err.contains("Network not found: no network with matching name 'default'"), "\(err)")
        // net-create: transient, running at once, gone when destroyed.
        #expect(try await virsh("net-create", file) == "Network default created from \(file)\n\n")
        #expect(try await virsh("net-list", "--all").contains(" default   active   no          no\n"))
        #expect(try await namespace.links().contains("virbr0"))
        #expect(try await virsh("net-destroy", "default") == "Network default destroyed\n\n")
        #expect(try await virsh("net-list", "--all").contains("default") == false)
        #expect(try await namespace.links() == ["lo"])
    }

    static func waitForLeases(_ client: DaemonClient, count: Int) async throws -> [NetworkLease] {
        let deadline = ContinuousClock.now + .seconds(90)
        while ContinuousClock.now < deadline {
            let leases = try client.networkLeases("default", mac: nil)
            if leases.count >= count { return leases }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw HarnessError("fewer than \(count) leases after 90 s: \(try client.networkLeases("default", mac: nil))")
    }

    /// Types `command` on the guest's shell and waits for `marker`.
    static func expect(_ serial: SocketReader, _ command: String, _ marker: String) async throws {
        try serial.send(command + "\n")
        #expect(await serial.waitFor(marker, timeout: 30), "\(marker) after \(command): \(serial.text.suffix(400))")
    }
}

/// socat in the namespace: a TCP service that answers each connection's line in upper case.
final class ServiceInNamespace {
    let process: ProcessIdentity

    init(_ namespace: NetworkNamespace, port: Int) async throws {
        let null = try FileDescriptor.open("/dev/null", .writeOnly)
        defer { try? null.close() }
        let pid = try ProcessSpawner.spawn(executable: "/usr/sbin/ip",
                                           arguments: ["ip", "netns", "exec", namespace.name, "socat", "TCP-LISTEN:\(port),reuseaddr,fork", "EXEC:tr a-z A-Z"],
                                           environment: ProcessInfo.processInfo.environment, output: null, placements: [])
        process = try #require(ProcessIdentity.of(pid: pid))
        // socat binds at once; a connection before it has would be refused, so wait for it.
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline, !(try await namespace.exec(["ss", "-Htln"]).contains(":\(port)")) {
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    func stop() {
        process.send(signal: SIGKILL)
        ProcessExitWatcher.reap(process.pid)
    }
}
