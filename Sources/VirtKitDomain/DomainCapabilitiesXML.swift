import VirtKitModel

/// libvirt's domain capabilities XML (`virsh domcapabilities`, virConnectGetDomainCapabilities):
/// for one emulator, machine type and domain type, the limits and the values of each element that
/// VirtKit accepts. virt-install and virt-manager read it to choose firmware, CPU mode, devices and
/// their models, so it lists what VirtKit's parser and command-line builder really take (an
/// element VirtKit refuses is `supported='no'`), not what libvirt would.
public enum DomainCapabilitiesXML {
    /// What the XML describes.
    public struct Request: Sendable, Equatable {
        public var machine: QEMUCapabilities.Machine
        /// `qemu` or `kvm`.
        public var virtType: String
        /// Whether `-cpu host` can run here (KVM works).
        public var hostPassthrough: Bool
        public init(machine: QEMUCapabilities.Machine, virtType: String, hostPassthrough: Bool) {
            self.machine = machine
            self.virtType = virtType
            self.hostPassthrough = hostPassthrough
        }
    }

    /// The values VirtKit accepts, element by element (see ``DevicesParser``).
    static let diskDevices = ["disk"]
    static let diskBuses = ["ide", "virtio", "sata"]
    static let graphicsTypes = ["vnc", "spice"]
    static let videoModels = ["vga", "cirrus"]
    /// libvirt's channel types; VirtKit takes every character device type on every target.
    static let channelTypes = ["pty", "unix", "spicevmc"]

    public static func format(_ request: Request, qemu: QEMUCapabilities) -> String {
        var writer = LibvirtXMLWriter(capacity: 4096)
        writer.element("domainCapabilities") { writer in
            writer.text("path", [], qemu.emulator)
            writer.text("domain", [], request.virtType)
            writer.text("machine", [], request.machine.name)
            writer.text("arch", [], qemu.arch)
            writer.empty("vcpu", [("max", String(request.machine.maxCPUs))])
            writer.empty("iothreads", [("supported", "no")])
            writer.element("os", [("supported", "yes")]) { writer in
                writer.empty("enum", [("name", "firmware")])
                writer.empty("loader", [("supported", "no")])
            }
            cpu(request, qemu: qemu, into: &writer)
            writer.empty("memoryBacking", [("supported", "no")])
            devices(into: &writer)
            writer.element("features") { writer in
                for feature in ["gic", "vmcoreinfo", "genid", "backingStoreInput", "backup", "sev", "sgx", "hyperv"] {
                    writer.empty(feature, [("supported", "no")])
                }
            }
        }
        return writer.output
    }

    static func cpu(_ request: Request, qemu: QEMUCapabilities, into writer: inout LibvirtXMLWriter) {
        writer.element("cpu") { writer in
            if request.hostPassthrough {
                writer.element("mode", [("name", "host-passthrough"), ("supported", "yes")]) { writer in
                    values("hostPassthroughMigratable", ["off"], into: &writer)
                }
            } else {
                writer.empty("mode", [("name", "host-passthrough"), ("supported", "no")])
            }
            writer.empty("mode", [("name", "maximum"), ("supported", "no")])
            writer.empty("mode", [("name", "host-model"), ("supported", "no")])
            writer.element("mode", [("name", "custom"), ("supported", "yes")]) { writer in
                // host, max and base are modes or building blocks, not models a domain names.
                for model in qemu.cpuModels where !["host", "max", "base"].contains(model.name) {
                    writer.text("model", [("usable", model.usable ? "yes" : "no"),
                                          ("deprecated", model.deprecated ? "yes" : nil)], model.name)
                }
            }
        }
    }

    static func devices(into writer: inout LibvirtXMLWriter) {
        writer.element("devices") { writer in
            writer.element("disk", [("supported", "yes")]) { writer in
                values("diskDevice", diskDevices, into: &writer)
                values("bus", diskBuses, into: &writer)
                writer.empty("enum", [("name", "model")])
            }
            writer.element("graphics", [("supported", "yes")]) { writer in
                values("type", graphicsTypes, into: &writer)
            }
            writer.element("video", [("supported", "yes")]) { writer in
                values("modelType", videoModels, into: &writer)
            }
            for unsupported in ["hostdev", "rng", "filesystem", "tpm", "redirdev"] {
                writer.empty(unsupported, [("supported", "no")])
            }
            writer.element("channel", [("supported", "yes")]) { writer in
                values("type", channelTypes, into: &writer)
            }
        }
    }

    /// `<enum name='NAME'><value>...</value></enum>`, or `<enum name='NAME'/>` with no values.
    static func values(_ name: String, _ values: [String], into writer: inout LibvirtXMLWriter) {
        guard !values.isEmpty else { return writer.empty("enum", [("name", name)]) }
        writer.element("enum", [("name", name)]) { writer in
            for value in values { writer.text("value", [], value) }
        }
    }
}
