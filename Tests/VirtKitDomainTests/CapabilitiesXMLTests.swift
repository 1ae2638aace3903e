import Testing
import VirtKitDomain
import VirtKitModel

/// The capabilities XML formatters on a fixed probe, without QEMU.
struct CapabilitiesXMLTests {
    static let qemu = QEMUCapabilities(
        emulator: "/usr/bin/qemu-system-x86_64", binarySize: 1, binaryModified: 2, version: 7_002_000, arch: "x86_64",
        machines: [.init(name: "pc-q35-7.2", alias: "q35", maxCPUs: 288, deprecated: false, isDefault: false),
                   .init(name: "pc-i440fx-1.4", alias: nil, maxCPUs: 255, deprecated: true, isDefault: false),
                   .init(name: "pc-i440fx-7.2", alias: "pc", maxCPUs: 255, deprecated: false, isDefault: true)],
        cpuModels: [.init(name: "qemu64", usable: true, deprecated: false), .init(name: "Haswell", usable: false, deprecated: false),
                    .init(name: "max", usable: true, deprecated: false)],
        kvmPresent: true)

    static func host(kvm: Bool) -> HostCapabilitiesXML.Host {
        .init(uuid: "3d1219c7-c4c5-404a-aa1f-6d2a48adfda4", arch: "x86_64", cpus: 2, memoryKiB: 1024, kvmDevice: kvm)
    }

    @Test func machinesDefaultFirstEachAliasAfterItsMachine() {
        let xml = HostCapabilitiesXML.format(host: Self.host(kvm: false), qemu: Self.qemu)
        let machines = xml.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.hasPrefix("<machine") }
        #expect(machines == ["<machine maxCpus='255'>pc-i440fx-7.2</machine>",
                             "<machine canonical='pc-i440fx-7.2' maxCpus='255'>pc</machine>",
                             "<machine maxCpus='288'>pc-q35-7.2</machine>",
                             "<machine canonical='pc-q35-7.2' maxCpus='288'>q35</machine>",
                             "<machine maxCpus='255' deprecated='yes'>pc-i440fx-1.4</machine>"])
        #expect(xml.contains("<cpu id='1' socket_id='0' die_id='0' core_id='1' siblings='1'/>"))
    }

    @Test func kvmDomainsOnlyWithTheDevice() {
        #expect(!HostCapabilitiesXML.format(host: Self.host(kvm: false), qemu: Self.qemu).contains("<domain type='kvm'/>"))
        #expect(HostCapabilitiesXML.format(host: Self.host(kvm: true), qemu: Self.qemu).contains("<domain type='kvm'/>"))
    }

    @Test func domainCapabilitiesListWhatVirtKitTakes() throws {
        let machine = try #require(Self.qemu.machine(named: "q35"))
        let xml = DomainCapabilitiesXML.format(.init(machine: machine, virtType: "qemu", hostPassthrough: false), qemu: Self.qemu)
        #expect(xml.hasPrefix("<domainCapabilities>\n  <path>/usr/bin/qemu-system-x86_64</path>\n  <domain>qemu</domain>\n  <machine>pc-q35-7.2</machine>\n"))
        #expect(xml.contains("<vcpu max='288'/>"))
        #expect(xml.contains("<mode name='host-passthrough' supported='no'/>"))
        #expect(xml.contains("<model usable='yes'>qemu64</model>") && xml.contains("<model usable='no'>Haswell</model>"))
        #expect(!xml.contains(">max</model>"))
        #expect(xml.contains("<enum name='bus'>\n        <value>ide</value>\n        <value>virtio</value>\n        <value>sata</value>\n      </enum>"))
        #expect(xml.contains("<rng supported='no'/>") && xml.contains("<tpm supported='no'/>"))
        let kvm = DomainCapabilitiesXML.format(.init(machine: machine, virtType: "kvm", hostPassthrough: true), qemu: Self.qemu)
        #expect(kvm.contains("<mode name='host-passthrough' supported='yes'>"))
    }
}
