import VirtKitLibvirtRPC
import VirtKitRuntime

extension RemoteError {
    /// The runtime's error on libvirt's wire: libvirt's number for the same failure, from the
    /// QEMU driver (as libvirtd's qemu driver reports it), the message unchanged.
    init(_ error: RuntimeError) {
        let number: Int32 = switch error.code {
        case .noDomain: Number.noDomain
        case .operationInvalid: Number.operationInvalid
        case .operationFailed: Number.operationFailed
        case .operationTimeout: Number.operationTimeout
        case .xmlError: Number.xmlError
        case .configUnsupported: Number.configUnsupported
        // libvirt refuses a name or uuid clash on define as "operation failed: domain ... exists".
        case .domainExists: Number.operationFailed
        case .internalError: Number.internalError
        case .systemError: Number.systemError
        case .invalidArgument: Number.invalidArg
        case .agentUnresponsive: Number.agentUnresponsive
        case .argumentUnsupported: Number.argumentUnsupported
        case .noNetwork: Number.noNetwork
        // As for domains: libvirt reports a clash on define as "operation failed".
        case .networkExists: Number.operationFailed
        }
        self.init(code: number, domain: Source.qemu, message: error.message)
    }

    /// libvirt's virCheckFlags: flags outside `allowed` are refused, naming the function.
    static func checkFlags(_ flags: UInt32, allowed: UInt32, _ function: String) throws(RemoteError) {
        let unsupported = flags & ~allowed
        guard unsupported == 0 else {
            throw RemoteError(code: Number.invalidArg, domain: Source.qemu,
                              message: "invalid argument: unsupported flags (0x\(String(unsupported, radix: 16))) in function \(function)")
        }
    }

    /// An argument payload that does not decode.
    static func badArguments(_ procedure: Int32, _ error: any Error) -> RemoteError {
        RemoteError(code: Number.rpc, domain: Source.rpc, message: "Unable to decode message payload of procedure \(procedure): \(error)")
    }
}
