import VirtKitLibvirtRPC
import VirtKitModel
import VirtKitRuntime
import VirtKitXDR

/// The procedures that define, start, stop and change domains.
extension LibvirtDispatcher {
    /// virDomainCreateFlags VirtKit honours: PAUSED; FORCE_BOOT is what it does anyway (there is
    /// no managed save to resume from).
    static let createFlags: UInt32 = 1 | 8
    /// virDomainShutdownFlagValues VirtKit has: ACPI_POWER_BTN, GUEST_AGENT.
    static let shutdownFlags: UInt32 = 1 | 2

    func lifecycleCall(_ procedure: RemoteProcedure, _ args: inout XDRReader) async throws -> [UInt8]? {
        switch procedure {
        case .domainDefineXML, .domainDefineXMLFlags:
            let xml = try args.readRemoteString(what: "domain XML")
            if procedure == .domainDefineXMLFlags {
                // VALIDATE: VirtKit always validates.
                try RemoteError.checkFlags(try args.read(UInt32.self), allowed: 1, "virDomainDefineXMLFlags")
            }
            let summary = try await hypervisor.define(xml: xml)
            return Self.reply { $0.write(Self.wire(summary)) }
        case .domainCreateXML:
            let xml = try args.readRemoteString(what: "domain XML")
            let flags = try args.read(UInt32.self)
            // PAUSED and VALIDATE (VirtKit always validates); AUTODESTROY is not kept.
            try RemoteError.checkFlags(flags, allowed: 1 | 16, "virDomainCreateXML")
            let started = try await hypervisor.create(xml: xml, paused: flags & 1 != 0)
            return Self.reply { $0.write(Self.wire(started)) }
        case .domainUndefine, .domainUndefineFlags:
            let summary = try await resolve(try args.readDomain())
            if procedure == .domainUndefineFlags {
                // Managed save, snapshot, checkpoint, NVRAM and TPM options: VirtKit keeps none of those.
                try RemoteError.checkFlags(try args.read(UInt32.self), allowed: 0x7F, "virDomainUndefineFlags")
            }
            try await hypervisor.undefine(name: summary.name)
            return []
        case .domainCreate:
            let summary = try await resolve(try args.readDomain())
            _ = try await hypervisor.start(name: summary.name, paused: false)
            return []
        case .domainCreateWithFlags:
            let summary = try await resolve(try args.readDomain())
            let flags = try args.read(UInt32.self)
            try RemoteError.checkFlags(flags, allowed: Self.createFlags, "virDomainCreateWithFlags")
            let started = try await hypervisor.start(name: summary.name, paused: flags & 1 != 0)
            return Self.reply { $0.write(Self.wire(started)) }
        case .domainShutdown, .domainShutdownFlags:
            let summary = try await resolve(try args.readDomain())
            let flags = procedure == .domainShutdownFlags ? try args.read(UInt32.self) : 0
            try RemoteError.checkFlags(flags, allowed: Self.shutdownFlags, "virDomainShutdownFlags")
            try await shutdown(summary.name, flags: flags)
            return []
        case .domainReboot:
            let summary = try await resolve(try args.readDomain())
            let flags = try args.read(UInt32.self)
            try RemoteError.checkFlags(flags, allowed: 3, "virDomainReboot")
            try await reboot(summary.name, flags: flags)
            return []
        case .domainReset:
            let summary = try await resolve(try args.readDomain())
            try RemoteError.checkFlags(try args.read(UInt32.self), allowed: 0, "virDomainReset")
            _ = try await hypervisor.reset(name: summary.name)
            return []
        case .domainDestroy, .domainDestroyFlags:
            let summary = try await resolve(try args.readDomain())
            if procedure == .domainDestroyFlags {
                // GRACEFUL: VirtKit's destroy already asks QEMU to quit before it signals.
                try RemoteError.checkFlags(try args.read(UInt32.self), allowed: 1, "virDomainDestroyFlags")
            }
            _ = try await hypervisor.destroy(name: summary.name)
            return []
        case .domainSuspend, .domainResume:
            let summary = try await resolve(try args.readDomain())
            _ = try await procedure == .domainSuspend ? hypervisor.suspend(name: summary.name) : hypervisor.resume(name: summary.name)
            return []
        case .domainSetAutostart:
            let summary = try await resolve(try args.readDomain())
            _ = try await hypervisor.setAutostart(name: summary.name, enabled: try args.read(Int32.self) != 0)
            return []
        case .domainAttachDevice, .domainAttachDeviceFlags, .domainDetachDevice, .domainDetachDeviceFlags:
            try await changeDevice(procedure, &args)
            return []
        default:
            return nil
        }
    }

    /// ACPI (the default), the guest agent, or both: the agent first, then the power button,
    /// as libvirt's QEMU driver does when given both.
    private func shutdown(_ name: String, flags: UInt32) async throws {
        if flags & 2 != 0 {
            do {
                _ = try await hypervisor.shutdown(name: name, options: ShutdownOptions(mode: .agent))
                return
            } catch where flags & 1 != 0 {
                // Fall through to the power button.
            }
        }
        _ = try await hypervisor.shutdown(name: name, options: ShutdownOptions(mode: .acpi))
    }

    /// ACPI_POWER_BTN (1, the default), GUEST_AGENT (2); both: the agent first, then the
    /// button, as for a shutdown.
    private func reboot(_ name: String, flags: UInt32) async throws {
        if flags & 2 != 0 {
            do {
                _ = try await hypervisor.reboot(name: name, mode: .agent)
                return
            } catch where flags & 1 != 0 {
                // Fall through to the power button.
            }
        }
        _ = try await hypervisor.reboot(name: name, mode: .acpi)
    }

    /// Hot-plug: VirtKit changes the live domain only (AFFECT_CURRENT on a running one, or LIVE).
    private func changeDevice(_ procedure: RemoteProcedure, _ args: inout XDRReader) async throws {
        let summary = try await resolve(try args.readDomain())
        let xml = try args.readRemoteString(what: "device XML")
        if procedure == .domainAttachDeviceFlags || procedure == .domainDetachDeviceFlags {
            try RemoteError.checkFlags(try args.read(UInt32.self), allowed: 1, "virDomainAttachDeviceFlags")
        }
        if procedure == .domainAttachDevice || procedure == .domainAttachDeviceFlags {
            try await hypervisor.attachDevice(name: summary.name, xml: xml)
        } else {
            try await hypervisor.detachDevice(name: summary.name, xml: xml)
        }
    }
}
