import VirtKitLibvirtRPC
import VirtKitModel
import VirtKitXDR

/// The procedures that list, look up and describe domains.
extension LibvirtDispatcher {
    func queryCall(_ procedure: RemoteProcedure, _ args: inout XDRReader) async throws -> [UInt8]? {
        switch procedure {
        case .connectListAllDomains:
            let needResults = try args.read(Int32.self)
            let flags = try args.read(UInt32.self)
            try RemoteError.checkFlags(flags, allowed: ListAllDomainsFilter.known, "virConnectListAllDomains")
            let filter = ListAllDomainsFilter(flags: flags)
            var matching: [RemoteDomain] = []
            for summary in await hypervisor.list(all: true) {
                let info = try? await hypervisor.info(name: summary.name)
                if filter.admits(state: LibvirtDomainState(summary.state, summary.reason), persistent: info?.persistent ?? true,
                                 autostart: info?.autostart ?? false) {
                    matching.append(Self.wire(summary))
                }
            }
            return Self.reply { writer in
                writer.writeArray(needResults != 0 ? matching : []) { $0.write($1) }
                writer.write(UInt32(matching.count))
            }
        case .connectNumOfDomains, .connectNumOfDefinedDomains:
            let active = procedure == .connectNumOfDomains
            let count = await hypervisor.list(all: true).filter { LibvirtDomainState($0.state, $0.reason).isActive == active }.count
            return Self.reply { $0.write(Int32(count)) }
        case .connectListDomains:
            let limit = Int(max(0, try args.read(Int32.self)))
            let ids = await hypervisor.list(all: false).compactMap(\.id).prefix(limit).map { Int32(clamping: $0) }
            return Self.reply { $0.writeArray(Array(ids)) { $0.write($1) } }
        case .connectListDefinedDomains:
            let limit = Int(max(0, try args.read(Int32.self)))
            let names = await hypervisor.list(all: true).filter { !LibvirtDomainState($0.state, $0.reason).isActive }.map(\.name)
            return Self.reply { $0.writeArray(Array(names.prefix(limit))) { $0.write($1) } }
        case .domainLookupByName:
            let summary = try await hypervisor.state(name: try args.readRemoteString(what: "domain name"))
            return Self.reply { $0.write(Self.wire(summary)) }
        case .domainLookupByID:
            let id = try args.read(Int32.self)
            guard let summary = await hypervisor.list(all: false).first(where: { $0.id == Int(id) }) else {
                throw Self.notFound("no domain with matching id \(id)")
            }
            return Self.reply { $0.write(Self.wire(summary)) }
        case .domainLookupByUUID:
            let uuid = try args.readFixedOpaque(count: RPCLimits.uuidLength)
            guard let summary = await hypervisor.list(all: true).first(where: { RemoteDomain.uuidBytes($0.uuid) == uuid }) else {
                throw Self.notFound("no domain with matching uuid '\(RemoteDomain.uuidString(uuid))'")
            }
            return Self.reply { $0.write(Self.wire(summary)) }
        default:
            return try await describeCall(procedure, &args)
        }
    }

    /// The procedures about one domain's state and definition.
    private func describeCall(_ procedure: RemoteProcedure, _ args: inout XDRReader) async throws -> [UInt8]? {
        switch procedure {
        case .domainGetInfo:
            let info = try await information(try args.readDomain())
            let state = LibvirtDomainState(info.summary.state, info.summary.reason)
            return Self.reply { writer in
                writer.write(UInt32(state.state))  // unsigned char, as 4 bytes
                writer.write(info.maxMemoryKiB)
                writer.write(info.usedMemoryKiB)
                writer.write(UInt32(clamping: min(info.vcpus, UInt32(UInt16.max))))  // unsigned short, as 4 bytes
                writer.write(UInt64(max(0, (info.cpuTimeSeconds ?? 0) * 1_000_000_000)))
            }
        case .domainGetState:
            let summary = try await resolve(try args.readDomain())
            try RemoteError.checkFlags(try args.read(UInt32.self), allowed: 0, "virDomainGetState")
            let state = LibvirtDomainState(summary.state, summary.reason)
            return Self.reply { writer in
                writer.write(state.state)
                writer.write(state.reason)
            }
        case .domainGetXMLDesc:
            let summary = try await resolve(try args.readDomain())
            let flags = try args.read(UInt32.self)
            // SECURE, INACTIVE, UPDATE_CPU, MIGRATABLE; only INACTIVE changes VirtKit's answer.
            try RemoteError.checkFlags(flags, allowed: 0xF, "virDomainGetXMLDesc")
            let xml = try await hypervisor.xml(name: summary.name, inactive: flags & 2 != 0)
            return Self.reply { $0.write(xml) }
        case .domainGetOSType, .domainGetMaxMemory, .domainIsPersistent:
            let info = try await information(try args.readDomain())
            return Self.reply { writer in
                switch procedure {
                case .domainGetOSType: writer.write(info.osType)
                case .domainGetMaxMemory: writer.write(info.maxMemoryKiB)
                default: writer.write(Int32(info.persistent ? 1 : 0))
                }
            }
        case .domainIsActive:
            let summary = try await resolve(try args.readDomain())
            return Self.reply { $0.write(Int32(LibvirtDomainState(summary.state, summary.reason).isActive ? 1 : 0)) }
        case .domainGetVcpusFlags:
            let info = try await information(try args.readDomain())
            _ = try args.read(UInt32.self)
            return Self.reply { $0.write(Int32(clamping: info.vcpus)) }
        case .domainGetAutostart:
            let info = try await information(try args.readDomain())
            return Self.reply { $0.write(Int32(info.autostart ? 1 : 0)) }
        case .domainIsUpdated:
            _ = try await resolve(try args.readDomain())
            return Self.reply { $0.write(Int32(0)) }
        case .domainHasManagedSaveImage, .domainSnapshotNum:
            // VirtKit keeps no managed save images and no snapshots.
            _ = try await resolve(try args.readDomain())
            _ = try args.read(UInt32.self)
            return Self.reply { $0.write(Int32(0)) }
        case .domainGetMessages:
            _ = try await resolve(try args.readDomain())
            _ = try args.read(UInt32.self)
            return Self.reply { $0.writeArray([String]()) { $0.write($1) } }
        default:
            return nil
        }
    }

    static func notFound(_ detail: String) -> RemoteError {
        RemoteError(code: RemoteError.Number.noDomain, domain: RemoteError.Source.qemu, message: "Domain not found: \(detail)")
    }
}
