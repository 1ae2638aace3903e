import Testing
import VirtKitTestSupport
@testable import VirtKitDomain

/// `<metadata>` beyond the differential cases: VirtKit's monitor settings, and what VirtKit
/// refuses or decides where libvirt has no answer to compare with.
@Suite struct MetadataTests {
    static func domainXML(metadata: String) -> String {
        """
        <domain type='qemu'>
          <name>t</name>
          <uuid>c7a5fdbd-cdaf-9455-926a-d65c16db1809</uuid>
          \(metadata)
          <memory unit='MiB'>128</memory>
          <os><type arch='x86_64' machine='pc'>hvm</type></os>
          <devices><serial type='pty'/></devices>
        </domain>
        """
    }

    static func monitor(_ attributes: String, prefix: String = "virtkit") -> String {
        "<metadata><\(prefix):monitor xmlns:\(prefix)='urn:virtkit:domain:1' \(attributes)/></metadata>"
    }

    func defineError(_ xml: String) -> DomainError? {
        do {
            _ = try DomainParser.define(xml: xml)
            return nil
        } catch {
            return error
        }
    }

    // MARK: - VirtKit's monitor settings

    @Test(arguments: [
        ("port='30400' tcp='yes'", VirtKitMonitorSettings(port: 30400, tcp: true)),
        ("port='1' tcp='no'", VirtKitMonitorSettings(port: 1, tcp: false)),
        ("port='65435'", VirtKitMonitorSettings(port: 65435, tcp: nil)),
        ("tcp='no'", VirtKitMonitorSettings(port: nil, tcp: false)),
        ("", VirtKitMonitorSettings()),
        ("port='30400' other:k='x' xmlns:other='urn:other'", VirtKitMonitorSettings(port: 30400)),
    ])
    func validSettingsAreRead(_ attributes: String, _ expected: VirtKitMonitorSettings) throws {
        let domain = try DomainParser.define(xml: Self.domainXML(metadata: Self.monitor(attributes)))
        #expect(try domain.virtkitMonitor == expected)
    }

    @Test func thePrefixIsTheWritersChoice() throws {
        let domain = try DomainParser.define(xml: Self.domainXML(metadata: Self.monitor("port='7'", prefix: "vk")))
        #expect(try domain.virtkitMonitor == VirtKitMonitorSettings(port: 7))
    }

    @Test func absentSettingsAreNil() throws {
        #expect(try DomainParser.define(xml: Self.domainXML(metadata: "")).virtkitMonitor == nil)
        #expect(try DomainParser.define(xml: Self.domainXML(metadata: "<metadata/>")).virtkitMonitor == nil)
        let other = "<metadata><app:x xmlns:app='urn:app' port='1'/><monitor port='2'/></metadata>"
        #expect(try DomainParser.define(xml: Self.domainXML(metadata: other)).virtkitMonitor == nil)
    }

    @Test(arguments: [
        ("port='0'", "XML error: Invalid value for attribute 'port' in element 'virtkit:monitor': '0'. Expected a port number in 1..65435"),
        ("port='65436'", "XML error: Invalid value for attribute 'port' in element 'virtkit:monitor': '65436'. Expected a port number in 1..65435"),
        ("port='-1'", "XML error: Invalid value for attribute 'port' in element 'virtkit:monitor': '-1'. Expected a port number in 1..65435"),
        ("port='abc'", "XML error: Invalid value for attribute 'port' in element 'virtkit:monitor': 'abc'. Expected a port number in 1..65435"),
        ("port=''", "XML error: Invalid value for attribute 'port' in element 'virtkit:monitor': ''. Expected a port number in 1..65435"),
        ("port=' 80'", "XML error: Invalid value for attribute 'port' in element 'virtkit:monitor': ' 80'. Expected a port number in 1..65435"),
        ("tcp='maybe'", "XML error: Invalid value for attribute 'tcp' in element 'virtkit:monitor': 'maybe'. Expected yes or no"),
        ("tcp='YES'", "XML error: Invalid value for attribute 'tcp' in element 'virtkit:monitor': 'YES'. Expected yes or no"),
        ("prot='30400'", "unsupported configuration: attribute 'prot' in element 'virtkit:monitor' is not supported by VirtKit (port, tcp)"),
    ])
    func invalidSettingsAreRefusedAtDefine(_ attributes: String, _ message: String) throws {
        let xml = Self.domainXML(metadata: Self.monitor(attributes))
        #expect(defineError(xml)?.message == message)
        // The accessor says the same of a domain that was only parsed.
        let parsed = try DomainParser.parse(xml: xml)
        #expect(throws: DomainError.self) { try parsed.virtkitMonitor }
        do {
            _ = try parsed.virtkitMonitor
        } catch {
            #expect(error.message == message)
        }
    }

    @Test func otherElementsInVirtKitsNamespaceAreRefused() {
        let other = "<metadata><virtkit:console xmlns:virtkit='urn:virtkit:domain:1'/></metadata>"
        #expect(defineError(Self.domainXML(metadata: other))?.message
            == "unsupported configuration: element <virtkit:console> in namespace 'urn:virtkit:domain:1' is not supported by VirtKit (monitor)")
        let child = "<metadata><virtkit:monitor xmlns:virtkit='urn:virtkit:domain:1'><virtkit:x/></virtkit:monitor></metadata>"
        #expect(defineError(Self.domainXML(metadata: child))?.message
            == "unsupported configuration: element <virtkit:x> in <virtkit:monitor> is not supported by VirtKit")
    }

    @Test func onlyTheFirstElementOfVirtKitsNamespaceCounts() throws {
        // libvirt drops the second element of a namespace, so its bad port is never read.
        let two = "<metadata><virtkit:monitor xmlns:virtkit='urn:virtkit:domain:1' port='5'/>"
            + "<vk:monitor xmlns:vk='urn:virtkit:domain:1' port='0'/></metadata>"
        let domain = try DomainParser.define(xml: Self.domainXML(metadata: two))
        #expect(try domain.virtkitMonitor == VirtKitMonitorSettings(port: 5))
        #expect(domain.metadata?.elements.count == 1)
    }

    @Test func settingTheMonitorKeepsOtherNamespacesAndGoesLast() throws {
        let xml = Self.domainXML(metadata: "<metadata><virtkit:monitor xmlns:virtkit='urn:virtkit:domain:1' port='1'/>"
                                 + "<app:x xmlns:app='urn:app'>kept <app:y k='v'/></app:x></metadata>")
        var domain = try DomainParser.define(xml: xml)
        try domain.setVirtKitMonitor(VirtKitMonitorSettings(port: 30400, tcp: true))
        #expect(try domain.virtkitMonitor == VirtKitMonitorSettings(port: 30400, tcp: true))
        let written = DomainFormatter.format(domain)
        #expect(written.contains("""
              <metadata>
                <app:x xmlns:app="urn:app">kept <app:y k="v"/></app:x>
                <virtkit:monitor xmlns:virtkit="urn:virtkit:domain:1" port="30400" tcp="yes"/>
              </metadata>
              <memory unit='KiB'>131072</memory>

            """))
        #expect(try DomainParser.define(xml: written).virtkitMonitor == VirtKitMonitorSettings(port: 30400, tcp: true))

        try domain.setVirtKitMonitor(nil)
        #expect(try domain.virtkitMonitor == nil)
        #expect(domain.metadata?.elements.map(\.qualifiedName) == ["app:x"])
    }

    @Test func settingTheMonitorOnADomainWithoutMetadata() throws {
        var domain = try DomainParser.define(xml: Self.domainXML(metadata: ""))
        try domain.setVirtKitMonitor(VirtKitMonitorSettings(tcp: false))
        #expect(DomainFormatter.format(domain).contains(
            "  <metadata>\n    <virtkit:monitor xmlns:virtkit=\"urn:virtkit:domain:1\" tcp=\"no\"/>\n  </metadata>\n"))
    }

    @Test func invalidSettingsAreNotSet() throws {
        var domain = try DomainParser.define(xml: Self.domainXML(metadata: ""))
        #expect(throws: DomainError.self) { try domain.setVirtKitMonitor(VirtKitMonitorSettings(port: 70000)) }
        #expect(domain.metadata == nil)
    }

    // MARK: - Metadata

    @Test func anElementWithoutANamespaceCannotBeSet() {
        var metadata = Domain.Metadata()
        #expect(throws: DomainError.self) { try metadata.setElement(XMLNode.Element(localName: "plain")) }
        #expect(metadata.elements.isEmpty)
    }

    @Test func aSetElementIsDeclaredWhereItIsNotYet() throws {
        var metadata = Domain.Metadata()
        try metadata.setElement(XMLNode.Element(prefix: "app", localName: "x", namespaceURI: "urn:app"))
        #expect(metadata.elements.first?.namespaceDeclarations == [XMLNode.NamespaceDeclaration(prefix: "app", uri: "urn:app")])
        var declared = Domain.Metadata(namespaceDeclarations: [XMLNode.NamespaceDeclaration(prefix: "app", uri: "urn:app")])
        try declared.setElement(XMLNode.Element(prefix: "app", localName: "x", namespaceURI: "urn:app"))
        #expect(declared.elements.first?.namespaceDeclarations == [])
    }

    @Test func aNamespacedMetadataIsNotLibvirtsAndIsRefused() {
        // libvirt ignores it as it ignores every element it does not know; VirtKit refuses those.
        let prefixed = "<m:metadata xmlns:m='urn:m'><a:x xmlns:a='urn:a'/></m:metadata>"
        #expect(defineError(Self.domainXML(metadata: prefixed))?.message
            == "unsupported configuration: element <m:metadata> (namespace 'urn:m') in <domain> (line 4) is not supported by VirtKit")
        let defaulted = "<metadata xmlns='urn:m'><x/></metadata>"
        #expect(defineError(Self.domainXML(metadata: defaulted))?.message
            == "unsupported configuration: element <metadata> (namespace 'urn:m') in <domain> (line 4) is not supported by VirtKit")
    }

    @Test func metadataIsKeptThroughTheTreeWalkOnly() throws {
        let xml = Self.domainXML(metadata: "<metadata/>")
        let taken = Array(xml.utf8).withUnsafeBufferPointer {
            XMLStreamingTreeBuilder.parse($0, options: XMLDocumentParser.options, declining: ["metadata"])
        }
        #expect(taken == nil)
        let root = try XMLDocumentParser.parse(xml, keeping: ["metadata"])
        #expect(root.child("metadata")?.verbatim == .element(XMLNode.Element(localName: "metadata")))
        // Without metadata the streaming builder still takes the document.
        let plain = Array(Self.domainXML(metadata: "").utf8).withUnsafeBufferPointer {
            XMLStreamingTreeBuilder.parse($0, options: XMLDocumentParser.options, declining: ["metadata"])
        }
        #expect(plain != nil)
    }

    @Test func namespacedNamesAreQualifiedInTheReadingTree() throws {
        let root = try XMLDocumentParser.parse("<a xmlns:q='urn:q' xml:lang='en'><q:b q:c='1'/><d xmlns='urn:d'/></a>")
        #expect(root.attributes.map(\.name) == ["xml:lang"])
        #expect(root.children.map(\.name) == ["q:b", "d"])
        #expect(root.children.map(\.namespaceURI) == ["urn:q", "urn:d"])
        #expect(root.children[0].attribute("q:c") == "1")
    }
}
