import VirtKitJSON
import VirtKitLibvirtRPC
import VirtKitText
import VirtKitXDR

/// The QEMU program: qemu-monitor-command as the guest's monitor command channel runs it (so
/// the monitor's policy applies, as to every other client), qemu-agent-command through the runtime.
extension LibvirtDispatcher {
    func qemu(_ procedure: QEMUProcedure, _ args: inout XDRReader) async throws -> [UInt8] {
        let summary = try await resolve(try args.readDomain())
        let command = try args.readRemoteString(what: "command")
        switch procedure {
        case .domainMonitorCommand:
            let flags = try args.read(UInt32.self)
            try RemoteError.checkFlags(flags, allowed: 1, "virDomainQemuMonitorCommand")
            let line = try Self.monitorLine(command, hmp: flags & 1 != 0)
            let answer = try await hypervisor.monitorCommand(name: summary.name, line: line)
            return Self.reply { $0.write(String(answer.trimmingBlanks)) }
        case .domainAgentCommand:
            let timeout = try args.read(Int32.self)
            try RemoteError.checkFlags(try args.read(UInt32.self), allowed: 0, "virDomainQemuAgentCommand")
            let reply = try await hypervisor.agentCommand(name: summary.name, command: command, timeout: Int(timeout))
            return Self.reply { $0.writeOptional(reply.isEmpty ? nil : reply) { $0.write($1) } }
        }
    }

    /// The one line the command channel takes: an HMP line, or the QMP object written compactly.
    static func monitorLine(_ command: String, hmp: Bool) throws -> String {
        if hmp {
            guard !command.contains("\n") else {
                throw RemoteError(code: RemoteError.Number.invalidArg, domain: RemoteError.Source.qemu,
                                  message: "invalid argument: an HMP command is one line")
            }
            return command
        }
        guard let value = try? JSONValue(parsing: Array(command.utf8)), case .object = value else {
            throw RemoteError(code: RemoteError.Number.internalError, domain: RemoteError.Source.qemu,
                              message: "internal error: cannot parse json \(command): not a JSON object")
        }
        return value.jsonString
    }
}
