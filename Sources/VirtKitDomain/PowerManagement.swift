/// `<pm>`: whether the guest may suspend to RAM (S3) and to disk (S4). virt-install writes both
/// as disabled for every x86 guest; libvirt passes them to the ACPI device as `disable_s3` and
/// `disable_s4` globals.
public struct PowerManagement: Sendable, Equatable {
    public var suspendToMemory: Bool?
    public var suspendToDisk: Bool?

    public init(suspendToMemory: Bool? = nil, suspendToDisk: Bool? = nil) {
        self.suspendToMemory = suspendToMemory
        self.suspendToDisk = suspendToDisk
    }

    public var isEmpty: Bool { suspendToMemory == nil && suspendToDisk == nil }

    static func parse(_ element: XMLElement) throws(DomainError) -> PowerManagement {
        var pm = PowerManagement()
        for child in element.children {
            guard child.name == "suspend-to-mem" || child.name == "suspend-to-disk" else {
                throw DomainParser.unsupported(child, in: "pm")
            }
            var enabled: Bool?
            if let text = child.attribute("enabled") {
                guard text == "yes" || text == "no" else { throw .invalidValue("enabled", child.name, text) }
                enabled = text == "yes"
            }
            if child.name == "suspend-to-mem" { pm.suspendToMemory = enabled } else { pm.suspendToDisk = enabled }
        }
        return pm
    }

    func write(into writer: inout LibvirtXMLWriter) {
        writer.optionalElement("pm", []) { writer in
            if let memory = suspendToMemory { writer.empty("suspend-to-mem", [("enabled", memory ? "yes" : "no")]) }
            if let disk = suspendToDisk { writer.empty("suspend-to-disk", [("enabled", disk ? "yes" : "no")]) }
        }
    }

    /// `-global PIIX4_PM.disable_s3=1` and the like; q35's ACPI device is ICH9-LPC.
    public func arguments(q35: Bool) -> [String] {
        let device = q35 ? "ICH9-LPC" : "PIIX4_PM"
        var args: [String] = []
        if let memory = suspendToMemory { args += ["-global", "\(device).disable_s3=\(memory ? 0 : 1)"] }
        if let disk = suspendToDisk { args += ["-global", "\(device).disable_s4=\(disk ? 0 : 1)"] }
        return args
    }
}
