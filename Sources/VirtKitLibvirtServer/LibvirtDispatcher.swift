import Logging
import VirtKitLibvirtRPC
import VirtKitModel
import VirtKitRuntime
import VirtKitXDR

/// Carries out libvirt RPC calls on the runtime: decodes each procedure's arguments, calls the
/// ``Hypervisor``, encodes the result. Every call gets an answer: its result, or libvirt's error
/// (the runtime's errors mapped by number, arguments that do not decode as an RPC error).
struct LibvirtDispatcher: Sendable {
    let hypervisor: Hypervisor
    let host: HostFacts
    let logger: Logger

    /// The reply packet to `call`.
    func answer(_ call: RPCConnectionState.RPCCall, payload: [UInt8]) async -> RPCPacket {
        var args = XDRReader(payload)
        let header: RPCHeader
        let result: Result<[UInt8], any Error>
        switch call {
        case let .remote(procedure, callHeader):
            header = callHeader
            do { result = .success(try await remote(procedure, &args)) } catch { result = .failure(error) }
        case let .qemu(procedure, callHeader):
            header = callHeader
            do { result = .success(try await qemu(procedure, &args)) } catch { result = .failure(error) }
        }
        switch result {
        case .success(let bytes):
            return RPCPacket(header: header.reply(.ok), payload: bytes)
        case .failure(let error):
            return RPCPacket(header: header.reply(.error), error: Self.remoteError(error, procedure: header.procedure))
        }
    }

    static func remoteError(_ error: any Error, procedure: Int32) -> RemoteError {
        switch error {
        case let error as RemoteError: error
        case let error as RuntimeError: RemoteError(error)
        case let error as XDRError: .badArguments(procedure, error)
        default: RemoteError(code: RemoteError.Number.internalError, domain: RemoteError.Source.rpc,
                             message: "internal error: \(error)")
        }
    }

    func remote(_ procedure: RemoteProcedure, _ args: inout XDRReader) async throws -> [UInt8] {
        if let bytes = try await connectCall(procedure, &args) { return bytes }
        if let bytes = try await queryCall(procedure, &args) { return bytes }
        if let bytes = try await lifecycleCall(procedure, &args) { return bytes }
        if let bytes = try await networkCall(procedure, &args) { return bytes }
        throw RemoteError.unknownProcedure(procedure.rawValue)
    }

    // MARK: domains on the wire

    /// The runtime's domain behind a handle the client holds: the same name and uuid, else
    /// libvirt's "no domain with matching uuid".
    func resolve(_ domain: RemoteDomain) async throws -> DomainSummary {
        guard let summary = try? await hypervisor.state(name: domain.name), RemoteDomain.uuidBytes(summary.uuid) == domain.uuid else {
            throw Self.missing(domain)
        }
        return summary
    }

    /// The information of the domain behind a handle, in one call to the runtime.
    func information(_ domain: RemoteDomain) async throws -> DomainInfo {
        guard let info = try? await hypervisor.info(name: domain.name), RemoteDomain.uuidBytes(info.summary.uuid) == domain.uuid else {
            throw Self.missing(domain)
        }
        return info
    }

    static func missing(_ domain: RemoteDomain) -> RemoteError {
        RemoteError(code: RemoteError.Number.noDomain, domain: RemoteError.Source.qemu,
                    message: "Domain not found: no domain with matching uuid '\(RemoteDomain.uuidString(domain.uuid))' (\(domain.name))")
    }

    static func wire(_ summary: DomainSummary) -> RemoteDomain {
        RemoteDomain(name: summary.name, uuid: RemoteDomain.uuidBytes(summary.uuid) ?? Array(repeating: 0, count: 16),
                     id: Int32(clamping: summary.id ?? -1))
    }

    /// Encodes with `body`.
    static func reply(_ body: (inout XDRWriter) -> Void) -> [UInt8] {
        var writer = XDRWriter()
        body(&writer)
        return writer.bytes
    }
}
