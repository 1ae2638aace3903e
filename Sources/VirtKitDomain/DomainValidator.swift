/// Refuses a domain libvirt would refuse, and what libvirt only refuses at start (a serial port
/// used twice), so that a defined domain can start.
public enum DomainValidator {
    public static func validate(_ domain: Domain) throws(DomainError) {
        try validateName(domain.name)
        if domain.memoryKiB == 0 {
            throw DomainError(.xmlError, "missing memory element or memory size 0")
        }
        _ = try domain.virtkitMonitor
        _ = try domain.virtkitAutostart
        try validateLinks(domain)
        for timer in domain.clockTimers { try timer.validate(domain) }
        let devices = domain.devices
        for chardev in [devices.serials, devices.parallels, devices.channels].joined() {
            try ChardevValidator.validate(chardev, in: domain)
        }
        for (index, console) in devices.consoles.enumerated() {
            // Console 0 of type serial is serial 0 and was checked as such.
            if index == 0, case .console(.serial, _) = console.target, !devices.serials.isEmpty { continue }
            try ChardevValidator.validate(console, in: domain)
        }
        var seen: [Int: Int] = [:]
        for (index, serial) in devices.serials.enumerated() {
            guard let port = serial.target.port else { continue }
            if let first = seen[port] {
                throw DomainError(.configUnsupported,
                                  "serial devices \(first) and \(index) both use target port \(port)")
            }
            seen[port] = index
        }
        var aliases = Set<String>()
        for chardev in [devices.serials, devices.parallels, devices.channels].joined() {
            if let alias = chardev.alias, !aliases.insert(alias).inserted {
                throw DomainError(.xmlError, "non unique alias detected: \(alias)")
            }
        }
    }

    /// A NIC starts with its link up: VirtKit sets a link down on a running domain only
    /// (`domif-setlink`), so a definition saying otherwise is refused rather than ignored.
    static func validateLinks(_ domain: Domain) throws(DomainError) {
        if domain.devices.interfaces.contains(where: \.linkDown) {
            throw DomainError(.configUnsupported,
                              "<link state='down'/> in a definition is not supported by VirtKit: set it on the running domain (domif-setlink)")
        }
    }

    /// Names become file and directory names: no '/', no control characters, not empty.
    public static func validateName(_ name: String) throws(DomainError) {
        if name.isEmpty { throw DomainError(.xmlError, "missing name information") }
        if name.contains("/") {
            throw DomainError(.xmlError, "name \(name) cannot contain '/'")
        }
        // VirtKit's own rule, so that `validate` refuses what the daemon would: a name is the
        // definition's file name, and a leading '.' would hide it (or be '.' or '..').
        if name.hasPrefix(".") {
            throw DomainError(.xmlError, "name '\(name)' cannot start with '.'")
        }
        if name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw DomainError(.xmlError, "name '\(name)' contains control characters")
        }
        if name.utf8.count > 200 {
            throw DomainError(.xmlError, "name '\(name.prefix(20))...' is longer than 200 bytes")
        }
    }
}
