import VirtKitLibvirtRPC
import VirtKitXDR

/// The connection's procedures: authentication, features, open and close, what the host is.
extension LibvirtDispatcher {
    /// The libvirt version VirtKit answers as (its API is libvirt 9.0's).
    static let libraryVersion: UInt64 = 9_000_000

    /// virDrvFeature values VirtKit has: PROGRAM_KEEPALIVE (10), REMOTE_EVENT_CALLBACK (14),
    /// REMOTE_CLOSE_CALLBACK (15).
    static let features: Set<Int32> = [10, 14, 15]

    func connectCall(_ procedure: RemoteProcedure, _ args: inout XDRReader) async throws -> [UInt8]? {
        switch procedure {
        case .authList:
            // The socket's mode and the peer's credentials are the access control, as for
            // libvirtd's UNIX socket: REMOTE_AUTH_NONE.
            return Self.reply { $0.writeArray([Int32(0)]) { $0.write($1) } }
        case .connectSupportsFeature:
            let feature = try args.read(Int32.self)
            return Self.reply { $0.write(Int32(Self.features.contains(feature) ? 1 : 0)) }
        case .connectOpen:
            _ = try args.readOptionalRemoteString(what: "URI")
            _ = try args.read(UInt32.self)
            return []
        case .connectClose, .connectRegisterCloseCallback, .connectUnregisterCloseCallback:
            return []
        case .connectGetType:
            return Self.reply { $0.write("QEMU") }
        case .connectGetVersion:
            let version = try await hypervisor.qemuCapabilities().version
            return Self.reply { $0.write(version) }
        case .connectGetLibVersion:
            return Self.reply { $0.write(Self.libraryVersion) }
        case .connectGetHostname:
            return Self.reply { $0.write(host.hostname) }
        case .connectIsSecure:
            return Self.reply { $0.write(Int32(1)) }
        case .nodeGetInfo:
            return Self.reply { writer in
                writer.writeFixedCharArray(host.machine, count: 32)
                writer.write(host.memoryKiB)
                writer.write(host.cpus)
                writer.write(host.megahertz)
                writer.write(Int32(1))  // NUMA nodes
                writer.write(Int32(1))  // sockets per node
                writer.write(host.cpus)  // cores per socket
                writer.write(Int32(1))  // threads per core
            }
        case .connectGetMaxVcpus:
            // As libvirt's QEMU driver: the default machine's limit, for qemu and kvm alike.
            _ = try args.readOptionalRemoteString(what: "type")
            let qemu = try await hypervisor.qemuCapabilities()
            return Self.reply { $0.write(Int32(clamping: qemu.defaultMachine?.maxCPUs ?? 1)) }
        case .connectGetCapabilities:
            let xml = try await hypervisor.capabilitiesXML()
            return Self.reply { $0.write(xml) }
        case .connectGetDomainCapabilities:
            let emulator = try args.readOptionalRemoteString(what: "emulator")
            let arch = try args.readOptionalRemoteString(what: "arch")
            let machine = try args.readOptionalRemoteString(what: "machine")
            let virtType = try args.readOptionalRemoteString(what: "virttype")
            _ = try args.read(UInt32.self)
            let xml = try await hypervisor.domainCapabilitiesXML(emulator: emulator, arch: arch, machine: machine, virtType: virtType)
            return Self.reply { $0.write(xml) }
        case .nodeGetSecurityModel:
            // No security driver: an empty model and DOI, so virsh prints no security lines.
            return Self.reply { writer in
                writer.writeCharArray("")
                writer.writeCharArray("")
            }
        default:
            return nil
        }
    }
}
