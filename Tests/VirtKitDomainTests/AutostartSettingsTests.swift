import Testing
import VirtKitDomain

/// `<virtkit:autostart>` in a domain's metadata, read and refused as define does.
struct AutostartSettingsTests {
    static func domain(_ attributes: String) -> String {
        """
        <domain type='qemu'><name>web</name><memory unit='MiB'>64</memory>
          <metadata><virtkit:autostart xmlns:virtkit='urn:virtkit:autostart:1' \(attributes)/></metadata>
          <os><type arch='x86_64' machine='pc'>hvm</type></os></domain>
        """
    }

    @Test func settingsAreReadAndKeptBesideTheMonitor() throws {
        let domain = try DomainParser.define(xml: Self.domain("order='3' delay='10' after='db'"))
        #expect(try domain.virtkitAutostart == VirtKitAutostartSettings(order: 3, delaySeconds: 10, after: "db"))
        #expect(DomainFormatter.format(domain).contains("<virtkit:autostart xmlns:virtkit=\"urn:virtkit:autostart:1\" order=\"3\" delay=\"10\" after=\"db\"/>"))
        let plain = try DomainParser.define(xml: Self.domain("").replacingOccurrences(of: "<metadata>", with: "<metadata><x:y xmlns:x='urn:x'/>"))
        #expect(try plain.virtkitAutostart == VirtKitAutostartSettings())
    }

    @Test(arguments: [
        ("order='-1'", "XML error: Invalid value for attribute 'order' in element 'virtkit:autostart': '-1'. Expected a number in 0..1000000"),
        ("delay='3601'", "XML error: Invalid value for attribute 'delay' in element 'virtkit:autostart': '3601'. Expected a number in 0..3600"),
        ("after='web'", "unsupported configuration: domain 'web' cannot start after itself"),
        ("after='a/b'", nil),
        ("when='boot'", "unsupported configuration: attribute 'when' in element 'virtkit:autostart' is not supported by VirtKit (order, delay, after)"),
    ])
    func badSettingsAreRefused(_ attributes: String, _ message: String?) {
        #expect {
            _ = try DomainParser.define(xml: Self.domain(attributes))
        } throws: { error in
            message.map { (error as? DomainError)?.message == $0 } ?? (error is DomainError)
        }
    }
}
