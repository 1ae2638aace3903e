import VirtKitModel

/// libvirt's capabilities XML (`virsh capabilities`, virConnectGetCapabilities) for a host that
/// runs one QEMU binary: the host (uuid, CPU architecture and topology, memory, no security
/// driver) and the guests it can run (hvm on QEMU's architecture, its machine types with their
/// aliases, `qemu` and, with /dev/kvm, `kvm` domains). virt-install and virt-manager read the
/// guest part to choose a machine type, emulator and domain type.
///
/// Built from VirtKit's own probe of the host and of QEMU, never copied from libvirt: what it
/// lists is what VirtKit will run.
public enum HostCapabilitiesXML {
    /// The host facts the XML reports.
    public struct Host: Sendable, Equatable {
        public var uuid: String
        public var arch: String
        public var cpus: Int
        public var memoryKiB: UInt64
        /// Whether /dev/kvm exists (libvirt's test for listing `kvm` domains).
        public var kvmDevice: Bool
        public init(uuid: String, arch: String, cpus: Int, memoryKiB: UInt64, kvmDevice: Bool) {
            self.uuid = uuid
            self.arch = arch
            self.cpus = cpus
            self.memoryKiB = memoryKiB
            self.kvmDevice = kvmDevice
        }
    }

    public static func format(host: Host, qemu: QEMUCapabilities) -> String {
        var writer = LibvirtXMLWriter(capacity: 8192)
        writer.element("capabilities") { writer in
            writer.element("host") { writer in
                writer.text("uuid", [], host.uuid)
                writer.element("cpu") { writer in
                    writer.text("arch", [], host.arch)
                    writer.empty("topology", [("sockets", "1"), ("dies", "1"), ("cores", String(host.cpus)), ("threads", "1")])
                }
                writer.empty("power_management")
                writer.empty("iommu", [("support", "no")])
                topology(host, into: &writer)
                writer.element("secmodel") { writer in
                    writer.text("model", [], "none")
                    writer.text("doi", [], "0")
                }
            }
            guest(host: host, qemu: qemu, into: &writer)
        }
        return writer.output
    }

    static func topology(_ host: Host, into writer: inout LibvirtXMLWriter) {
        writer.element("topology") { writer in
            writer.element("cells", [("num", "1")]) { writer in
                writer.element("cell", [("id", "0")]) { writer in
                    writer.text("memory", [("unit", "KiB")], String(host.memoryKiB))
                    writer.element("cpus", [("num", String(host.cpus))]) { writer in
                        for cpu in 0..<host.cpus {
                            writer.empty("cpu", [("id", String(cpu)), ("socket_id", "0"), ("die_id", "0"),
                                                 ("core_id", String(cpu)), ("siblings", String(cpu))])
                        }
                    }
                }
            }
        }
    }

    /// The machine list as libvirt orders it: the default machine first, then its alias naming
    /// it as canonical, then the others (each alias right after the machine it names).
    static func guest(host: Host, qemu: QEMUCapabilities, into writer: inout LibvirtXMLWriter) {
        let ordered = qemu.machines.filter(\.isDefault) + qemu.machines.filter { !$0.isDefault }
        writer.element("guest") { writer in
            writer.text("os_type", [], "hvm")
            writer.element("arch", [("name", qemu.arch)]) { writer in
                writer.text("wordsize", [], qemu.arch.hasSuffix("64") ? "64" : "32")
                writer.text("emulator", [], qemu.emulator)
                for machine in ordered {
                    writer.text("machine", [("maxCpus", String(machine.maxCPUs)),
                                            ("deprecated", machine.deprecated ? "yes" : nil)], machine.name)
                    if let alias = machine.alias {
                        writer.text("machine", [("canonical", machine.name), ("maxCpus", String(machine.maxCPUs))], alias)
                    }
                }
                writer.empty("domain", [("type", "qemu")])
                if host.kvmDevice && qemu.kvmPresent { writer.empty("domain", [("type", "kvm")]) }
            }
            writer.element("features") { writer in
                writer.empty("acpi", [("default", "on"), ("toggle", "yes")])
                writer.empty("apic", [("default", "on"), ("toggle", "no")])
                writer.empty("cpuselection")
                writer.empty("deviceboot")
            }
        }
    }
}
