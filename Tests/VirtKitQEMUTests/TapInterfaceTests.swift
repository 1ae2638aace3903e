import Testing
import VirtKitDomain
@testable import VirtKitQEMU

/// `<interface type='network|bridge'>`: read and written back as libvirt does, and started with
/// a tap virtkitd makes, passed by number (libvirt's `{"type":"tap","fd":"N"}`).
@Suite struct TapInterfaceTests {
    static func domainXML(_ interfaces: String) -> String {
        """
        <domain type='qemu'>
          <name>taps</name>
          <uuid>c7a5fdbd-cdaf-9455-926a-d65c16db1809</uuid>
          <memory unit='MiB'>128</memory>
          <os><type arch='x86_64' machine='q35'>hvm</type></os>
          <devices>\(interfaces)</devices>
        </domain>
        """
    }

    static let twoTaps = """
        <interface type='network'><mac address='52:54:00:AA:bb:01'/><source network='default'/><model type='virtio'/></interface>
        <interface type='user'><mac address='52:54:00:aa:bb:02'/><model type='virtio'/></interface>
        <interface type='bridge'><mac address='52:54:00:aa:bb:03'/><source bridge='br0'/><target dev='guesttap'/><model type='e1000e'/></interface>
        """

    @Test func sourcesAndTargetsAreWrittenBackAsLibvirtWritesThem() throws {
        let domain = try DomainParser.define(xml: Self.domainXML(Self.twoTaps))
        let xml = DomainFormatter.format(domain)
        #expect(xml.contains("    <interface type='network'>\n      <mac address='52:54:00:aa:bb:01'/>\n"
                             + "      <source network='default'/>\n      <model type='virtio'/>\n"))
        #expect(xml.contains("      <source bridge='br0'/>\n      <target dev='guesttap'/>\n      <model type='e1000e'/>\n"))
        #expect(try DomainFormatter.format(DomainParser.define(xml: xml)) == xml)
    }

    @Test func aStartPassesEachTapByNumberAndKeepsUserModeAsItWas() throws {
        let domain = try DomainParser.define(xml: Self.domainXML(Self.twoTaps))
        var builder = QEMUCommandLineBuilder.libvirtPretend(for: domain)
        builder.mode = .start(firstFD: 3)
        let invocation = try builder.build(domain)
        let taps = invocation.descriptors.filter { if case .tap = $0.purpose { true } else { false } }
        #expect(taps.map(\.label) == ["tapfd-net0", "tapfd-net2"])
        #expect(taps.map(\.purpose) == [.tap(interface: 0), .tap(interface: 2)])
        let netdevs = zip(invocation.arguments, invocation.arguments.dropFirst()).filter { $0.0 == "-netdev" }.map(\.1)
        #expect(netdevs == [#"{"type":"tap","fd":"\#(taps[0].number)","id":"hostnet0"}"#,
                            #"{"type":"user","id":"hostnet1"}"#,
                            #"{"type":"tap","fd":"\#(taps[1].number)","id":"hostnet2"}"#])
        #expect(invocation.arguments.contains(#"{"driver":"e1000e","netdev":"hostnet2","id":"net2","mac":"52:54:00:aa:bb:03","bus":"pci.3","addr":"0x0"}"#)
                || invocation.arguments.contains { $0.hasPrefix(#"{"driver":"e1000e","netdev":"hostnet2","id":"net2","mac":"52:54:00:aa:bb:03""#) })
    }

    @Test func aTapHasNoCommandLineBeforeAStart() throws {
        let domain = try DomainParser.define(xml: Self.domainXML(Self.twoTaps))
        #expect(throws: QEMUCommandLineError("interface type 'network' has no command line before a start: its tap is made then")) {
            try QEMUCommandLineBuilder.libvirtPretend(for: domain).build(domain)
        }
    }

    static let refusals: [(String, String)] = [
        ("<interface type='network'/>", "XML error: No <source> 'network' attribute specified with <interface type='network'/>"),
        ("<interface type='bridge'><source network='x'/></interface>",
         "XML error: No <source> 'bridge' attribute specified with <interface type='bridge'/>"),
        ("<interface type='bridge'><source bridge='a/b'/></interface>", "XML error: invalid network interface name 'a/b'"),
        ("<interface type='bridge'><source bridge='br0'/><target dev='much-too-long-name'/></interface>",
         "XML error: invalid network interface name 'much-too-long-name'"),
        ("<interface type='user'><mac address='01:00:00:00:00:01'/></interface>",
         "XML error: expected unicast mac address, found multicast '01:00:00:00:00:01'"),
        ("<interface type='user'><link state='down'/></interface>",
         "unsupported configuration: <link state='down'/> in a definition is not supported by VirtKit: set it on the running domain (domif-setlink)"),
        ("<interface type='user'><link state='sideways'/></interface>",
         "XML error: Invalid value for attribute 'state' in element 'link': 'sideways'."),
        ("<interface type='direct'><source dev='eth0'/></interface>",
         "unsupported configuration: interface type 'direct' is not supported by VirtKit (user, network, bridge)"),
    ]

    @Test("bad interfaces are refused, naming what is wrong", arguments: refusals)
    func refusal(_ refusal: (String, String)) {
        do {
            _ = try DomainParser.define(xml: Self.domainXML(refusal.0))
            Issue.record("accepted: \(refusal.0)")
        } catch {
            #expect(error.message == refusal.1)
        }
    }

    @Test func aGeneratedTapNameIsNotKeptInTheDefinition() throws {
        let domain = try DomainParser.define(xml: Self.domainXML("<interface type='network'><source network='default'/><target dev='vnet7'/></interface>"))
        #expect(domain.devices.interfaces[0].targetDev == nil)
    }
}
