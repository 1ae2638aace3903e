import Foundation
import Testing
@testable import VirtKitDomain

/// What VirtKit checks beyond libvirt, and the parser's own errors.
@Suite struct DomainCheckTests {
    static func domainXML(devices: String, name: String = "t") -> String {
        """
        <domain type='qemu'>
          <name>\(name)</name>
          <uuid>c7a5fdbd-cdaf-9455-926a-d65c16db1809</uuid>
          <memory unit='MiB'>128</memory>
          <os><type arch='x86_64' machine='pc'>hvm</type></os>
          <devices>\(devices)</devices>
        </domain>
        """
    }

    func defineError(_ xml: String) -> DomainError? {
        do {
            _ = try DomainParser.define(xml: xml)
            return nil
        } catch {
            return error
        }
    }

    @Test func duplicateSerialPortIsRefusedAtDefinition() throws {
        let error = try #require(defineError(Self.domainXML(devices:
            "<serial type='pty'><target port='1'/></serial><serial type='null'><target port='1'/></serial>")))
        #expect(error.message == "unsupported configuration: serial devices 0 and 1 both use target port 1")
    }

    @Test func connectModePathOver107BytesIsRefused() throws {
        let path = "/tmp/" + String(repeating: "p", count: 103)  // 108 bytes
        #expect(path.utf8.count == 108)
        let error = try #require(defineError(Self.domainXML(devices:
            "<serial type='unix'><source mode='connect' path='\(path)'/></serial>")))
        #expect(error.message.contains("UNIX socket path '\(path)' too long (108 bytes, at most 107)"))
        let fits = String(path.dropLast())
        #expect(defineError(Self.domainXML(devices:
            "<serial type='unix'><source mode='connect' path='\(fits)'/></serial>")) == nil)
    }

    @Test func bindModeLongPathIsAccepted() {
        // VirtKit binds it through a short relative path and hands QEMU the descriptor.
        let path = "/tmp/" + String(repeating: "b", count: 195)
        #expect(defineError(Self.domainXML(devices:
            "<serial type='unix'><source mode='bind' path='\(path)'/></serial>")) == nil)
    }

    @Test(arguments: ["a/b", "bad\u{7F}name", ".hidden", "..", "."])
    func badNamesAreRefused(_ name: String) throws {
        let error = try #require(defineError(Self.domainXML(devices: "", name: name)))
        let why = name.contains("/") ? "cannot contain '/'" : name.hasPrefix(".") ? "cannot start with '.'" : "control characters"
        #expect(error.message.contains(why), "\(error.message)")
    }

    @Test func malformedXMLNamesTheLine() throws {
        let error = try #require(defineError("<domain type='qemu'>\n<name>x</name>\n<devices><serial></devices></domain>"))
        #expect(error.code == .xmlError)
        #expect(error.message.hasPrefix("XML error: (domain_definition):3:"))
    }

    @Test func unsupportedElementIsNamedWithItsLine() throws {
        let error = try #require(defineError(Self.domainXML(devices: "<watchdog model='i6300esb'/>")))
        #expect(error.message == "unsupported configuration: element <watchdog> in <devices> (line 6) is not supported by VirtKit")
    }

    @Test func reconnectOnBindIsRefusedEvenWhenDisabled() throws {
        let error = try #require(defineError(Self.domainXML(devices:
            "<serial type='unix'><source mode='bind' path='/tmp/x.sock'><reconnect enabled='no'/></source></serial>")))
        #expect(error.message == "internal error: chardev reconnect is possible only for connect mode")
    }

    @Test func fiveISASerialsAreTooMany() throws {
        let serials = String(repeating: "<serial type='null'><target type='isa-serial'/></serial>", count: 5)
        let error = try #require(defineError(Self.domainXML(devices: serials)))
        #expect(error.message == "internal error: Maximum supported number of ISA serial ports is '4'")
    }

    @Test func explicitISASerialsTakeTheLowestFreePort() throws {
        let domain = try DomainParser.define(xml: Self.domainXML(devices:
            "<serial type='null'><target type='isa-serial' port='0'/></serial><serial type='null'><target type='isa-serial'/></serial>"))
        #expect(domain.devices.serials.map { $0.target.port } == [0, 1])
    }

    @Test func consoleAloneBecomesSerialZero() throws {
        let domain = try DomainParser.define(xml: Self.domainXML(devices: "<console type='file'><source path='/tmp/c.log'/></console>"))
        #expect(domain.devices.serials.count == 1)
        #expect(domain.devices.serials[0].source == .file(path: "/tmp/c.log", append: nil))
        #expect(domain.devices.serials[0].target == .serial(type: .isaSerial, model: .isaSerial, port: 0))
    }

    @Test func virtioChannelsFillPortsFromOneAndAddAController() throws {
        let full = String(repeating: "<channel type='pty'><target type='virtio'/></channel>", count: 31)
        let domain = try DomainParser.define(xml: Self.domainXML(devices: full))
        let controllers = domain.devices.controllers.filter { $0.type == "virtio-serial" }.map(\.index)
        #expect(controllers == [0, 1])
        #expect(domain.devices.channels.last?.address == .virtioSerial(controller: 1, bus: 0, port: 1))
        #expect(domain.devices.channels.first?.address == .virtioSerial(controller: 0, bus: 0, port: 1))
    }

    @Test func writerEscapesAsLibvirtDoes() {
        #expect(LibvirtXMLWriter.escape("a<b>&'\"\u{01}\tz") == "a&lt;b&gt;&amp;&apos;&quot;\tz")
        #expect(LibvirtXMLWriter.escape("plain") == "plain")
    }

    @Test func memoryUnitsRoundUpToKiB() throws {
        let xml = Self.domainXML(devices: "").replacingOccurrences(of: "<memory unit='MiB'>128</memory>",
                                                                  with: "<memory unit='b'>1025</memory>")
        #expect(try DomainParser.define(xml: xml).memoryKiB == 2)
    }
}

extension DomainCheckTests {
    @Test func interfaceWithoutMACGetsOneInQEMUsRange() throws {
        let domain = try DomainParser.define(xml: Self.domainXML(devices: "<interface type='user'/>"))
        let mac = try #require(domain.devices.interfaces.first?.mac)
        #expect(mac.hasPrefix("52:54:00:"))
        #expect(mac.count == 17)
    }
}
