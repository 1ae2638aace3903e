import Foundation
import SystemPackage
import Testing
import VirtKitTestSupport
import VirtKitAPI
import VirtKitHost
import VirtKitRuntime
#if canImport(Glibc)
import Glibc
#endif

/// attach-device and detach-device of chardev devices on a real guest.
@Suite("Hot-plug: chardev devices on a running guest", .tags(.qemu))
struct HotPlugTests {
    /// The guest's shell on its serial console, once it is up.
    static func shell(_ harness: GuestHarness, _ name: String) async throws -> SocketReader {
        let serial = try SocketReader(connectingTo: harness.serialPath(name))
        #expect(await serial.waitFor("VIRTKIT-GUEST-READY", timeout: 60), "serial: \(serial.text)")
        return serial
    }

    @Test("a virtio channel hot-plugged, echoed through in both ways (its path and virtkitd's socket), then unplugged")
    func channel() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let hypervisor = try await harness.hypervisor()
        let name = "hotchan"
        _ = try await hypervisor.define(xml: harness.domainXML(name: name))
        _ = try await hypervisor.start(name: name, paused: false)
        let serial = try await Self.shell(harness, name)

        let path = harness.root.appending("hot.sock").string
        let device = """
            <channel type='unix'>
              <source mode='bind' path='\(path)'/>
              <target type='virtio' name='org.example.hot'/>
            </channel>
            """
        try await hypervisor.attachDevice(name: name, xml: device)
        let live = try await hypervisor.xml(name: name, inactive: false)
        #expect(live.contains("name='org.example.hot'") && live.contains("path='\(path)'"), "\(live)")
        let chardevs = try await hypervisor.chardevs(name: name)
        #expect(chardevs.contains { $0.targetName == "org.example.hot" && $0.path == path })

        // In the guest: find the new port by its name and answer on it (devtmpfs made its node).
        try serial.send("""
            for p in /sys/class/virtio-ports/*; do [ "$(cat $p/name)" = org.example.hot ] && HOT=/dev/${p##*/}; done; \
            echo "hot port $HOT-found"; \
            (while true; do while read l; do echo "HOT:$l"; done; sleep 0.2; done) <> $HOT >&0 &

            """)
        #expect(await serial.waitFor("hot port /dev/vport", timeout: 20), "\(serial.text)")
        #expect(await serial.waitFor("-found", timeout: 5))

        let client = try SocketReader(connectingTo: path)
        try client.send("through the path\n")
        #expect(await client.waitFor("HOT:through the path\n", timeout: 20), "got: \(client.text)")
        // The path's client holds the pen: a second one types alongside (shared), by the channel's name.
        #expect(try await hypervisor.channelSocket(name: name, target: "org.example.hot").string.hasSuffix("/console/channel2"))
        let channel = try SocketReader(connectingTo: try await hypervisor.consoleSocket(name: name, device: "org.example.hot", mode: .shared).string)
        try channel.send("through virtkitd\n")
        #expect(await channel.waitFor("HOT:through virtkitd\n", timeout: 20), "got: \(channel.text)")

        try await hypervisor.detachDevice(name: name, xml: device)
        #expect(access(path, F_OK) != 0, "the served socket is gone")
        #expect(!(try await hypervisor.xml(name: name, inactive: false)).contains("org.example.hot"))
        #expect(!(try await hypervisor.chardevs(name: name)).contains { $0.targetName == "org.example.hot" })
        let again = await #expect(throws: RuntimeError.self) { try await hypervisor.detachDevice(name: name, xml: device) }
        #expect(again?.message == "operation failed: matching device not found")

        // The guest goes on.
        try serial.send("echo after-unplug-$((5*5))\n")
        #expect(await serial.waitFor("after-unplug-25", timeout: 20))
        _ = try await hypervisor.destroy(name: name)
        #expect(harness.leftovers().isEmpty, "left: \(harness.leftovers())")
    }

    @Test("usb-serial (q35) and pci-serial (pc, ACPI hot-plug) on ptys: brokered while plugged, unplugged cleanly")
    func serials() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let hypervisor = try await harness.hypervisor()
        for (name, machine, model) in [("hotusb", "q35", "usb-serial"), ("hotpci", "pc", "pci-serial")] {
            let xml = harness.domainXML(name: name).replacingOccurrences(of: "machine='q35'", with: "machine='\(machine)'")
            _ = try await hypervisor.define(xml: xml)
            _ = try await hypervisor.start(name: name, paused: false)
            _ = try await Self.shell(harness, name)
            let device = "<serial type='pty'><target type='\(model)'/></serial>"
            try await hypervisor.attachDevice(name: name, xml: device)
            let live = try await hypervisor.xml(name: name, inactive: false)
            #expect(live.contains("<target type='\(model)' port='1'>"), "\(live)")
            // virtkitd holds the new pty and serves it like any console.
            let chardevs = try await hypervisor.chardevs(name: name)
            let serial1 = chardevs.first { $0.alias == "serial1" }
            #expect(serial1?.pty?.hasPrefix("/dev/pts/") == true, "\(chardevs)")
            let console = try UnixSocket.connect(to: try await hypervisor.consoleSocket(name: name, device: "serial1", mode: .readonly))
            console.closeQuietly()

            try await hypervisor.detachDevice(name: name, xml: device)
            let after = try await hypervisor.xml(name: name, inactive: false)
            #expect(!after.contains("type='\(model)'"), "\(after)")
            #expect(!(try await hypervisor.chardevs(name: name)).contains { $0.alias == "serial1" })
            _ = try await hypervisor.destroy(name: name)
        }
        #expect(harness.leftovers().isEmpty, "left: \(harness.leftovers())")
    }

    @Test("what cannot be hot-plugged is refused with a reason, and nothing changes")
    func refusals() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let hypervisor = try await harness.hypervisor()
        let name = "hotno"
        _ = try await hypervisor.define(xml: harness.domainXML(name: name))
        _ = try await hypervisor.start(name: name, paused: true)
        let before = try await hypervisor.xml(name: name, inactive: false)

        let guestfwd = await #expect(throws: RuntimeError.self) {
            try await hypervisor.attachDevice(name: name, xml: """
                <channel type='tcp'><source mode='connect' host='127.0.0.1' service='4600'/>\
                <target type='guestfwd' address='10.0.2.1' port='4600'/></channel>
                """)
        }
        #expect(guestfwd?.message.contains("guestfwd channel cannot be hot-plugged") == true, "\(String(describing: guestfwd))")
        let tcp = await #expect(throws: RuntimeError.self) {
            try await hypervisor.attachDevice(name: name, xml: """
                <channel type='tcp'><source mode='bind' host='127.0.0.1' service='4999'/><target type='virtio' name='x.y'/></channel>
                """)
        }
        #expect(tcp?.message.contains("source type 'tcp' is not supported") == true, "\(String(describing: tcp))")
        let junk = await #expect(throws: RuntimeError.self) { try await hypervisor.attachDevice(name: name, xml: "<channel") }
        #expect(junk?.code == .xmlError)
        let disk = await #expect(throws: RuntimeError.self) {
            try await hypervisor.attachDevice(name: name, xml: "<serial type='pty'/><serial type='pty'/>")
        }
        #expect(disk?.message.contains("take one <serial>, <console> or <channel> element") == true, "\(String(describing: disk))")
        #expect(try await hypervisor.xml(name: name, inactive: false) == before)
        _ = try await hypervisor.destroy(name: name)
    }
}

extension FileDescriptor {
    func closeQuietly() { try? close() }
}
