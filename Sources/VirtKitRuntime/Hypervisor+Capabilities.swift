import Foundation
import SystemPackage
import VirtKitDomain
import VirtKitHost
import VirtKitModel
#if canImport(Glibc)
import Glibc
#endif

/// libvirt's capabilities and domain capabilities, from VirtKit's own probes of this host and of
/// its QEMU (see ``QEMUCapabilitiesProbe``). Off the actor: a first probe starts a QEMU.
extension Hypervisor {
    /// The emulator a domain without `<emulator>` runs.
    public static let defaultEmulator = "/usr/bin/qemu-system-x86_64"

    /// What the default emulator offers.
    nonisolated public func qemuCapabilities() async throws(RuntimeError) -> QEMUCapabilities {
        try await qemuProbe.capabilities(emulator: Self.defaultEmulator)
    }

    /// `virsh capabilities`.
    nonisolated public func capabilitiesXML() async throws(RuntimeError) -> String {
        let qemu = try await qemuCapabilities()
        return HostCapabilitiesXML.format(host: Self.hostDescription(), qemu: qemu)
    }

    /// `virsh domcapabilities`: for `emulator` (or the default one), `arch` (QEMU's own),
    /// `machine` (a name or alias; QEMU's default when nil) and `virtType` (`qemu` or `kvm`;
    /// `kvm` when nil and the host has /dev/kvm), with libvirt's errors for what does not match.
    nonisolated public func domainCapabilitiesXML(emulator: String?, arch: String?, machine: String?,
                                                  virtType: String?) async throws(RuntimeError) -> String {
        if let arch, arch != "x86_64" {
            throw RuntimeError(.configUnsupported, "unsupported configuration: unable to find any emulator to serve '\(arch)' architecture")
        }
        let qemu = try await qemuProbe.capabilities(emulator: emulator ?? Self.defaultEmulator)
        let kvmDevice = access("/dev/kvm", F_OK) == 0 && qemu.kvmPresent
        let type = virtType ?? (kvmDevice ? "kvm" : "qemu")
        guard type == "qemu" || (type == "kvm" && kvmDevice) else {
            throw RuntimeError(.invalidArgument, "invalid argument: Emulator '\(qemu.emulator)' does not support virt type '\(type)'")
        }
        let found = machine.map { qemu.machine(named: $0) } ?? qemu.defaultMachine
        guard let found else {
            throw RuntimeError(.invalidArgument, "invalid argument: the machine '\(machine ?? "")' is not supported by emulator '\(qemu.emulator)'")
        }
        let passthrough = type == "kvm" ? await accelerators.kvmAccelerator() == .kvm : false
        return DomainCapabilitiesXML.format(.init(machine: found, virtType: type, hostPassthrough: passthrough), qemu: qemu)
    }

    /// The host as the capabilities XML describes it.
    nonisolated static func hostDescription() -> HostCapabilitiesXML.Host {
        var names = utsname()
        uname(&names)
        let arch = withUnsafeBytes(of: &names.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return HostCapabilitiesXML.Host(uuid: hostUUID(), arch: arch, cpus: ProcessInfo.processInfo.activeProcessorCount,
                                        memoryKiB: ProcessInfo.processInfo.physicalMemory / 1024,
                                        kvmDevice: access("/dev/kvm", F_OK) == 0)
    }

    /// The host's uuid as libvirt finds it: the firmware's (SMBIOS product uuid), else
    /// systemd's machine id written as a uuid.
    nonisolated static func hostUUID() -> String {
        let firmware = AtomicFile.read("/sys/class/dmi/id/product_uuid").map { String(decoding: $0, as: UTF8.self) }
        if let uuid = firmware.flatMap({ UUID(uuidString: $0.trimmingCharacters(in: .whitespacesAndNewlines)) }),
           uuid.uuidString != "00000000-0000-0000-0000-000000000000" {
            return uuid.uuidString.lowercased()
        }
        let machineID = AtomicFile.read("/etc/machine-id").map { String(decoding: $0, as: UTF8.self) }?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        guard machineID.count == 32, machineID.allSatisfy(\.isHexDigit) else { return "00000000-0000-0000-0000-000000000000" }
        let hex = Array(machineID.lowercased())
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(hex[$0]) }.joined(separator: "-")
    }
}
