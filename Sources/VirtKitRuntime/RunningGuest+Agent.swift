import SystemPackage
import VirtKitModel
import VirtKitBroker
import VirtKitGuestAgent
#if canImport(Glibc)
import Glibc
#endif

extension RunningGuest {
    /// The virtio channel name of the QEMU guest agent.
    static let agentChannel = "org.qemu.guest_agent.0"

    /// Whether a program in the guest holds the agent channel open (VSERPORT_CHANGE), nil
    /// when the domain has no agent channel.
    nonisolated var agentConnected: Bool? {
        let status = snapshot
        guard status.brokered?.contains(where: { $0.targetName == Self.agentChannel }) == true else { return nil }
        return status.channels[Self.agentChannel] ?? false
    }

    /// Runs one agent command given as JSON text and returns the agent's reply object as JSON
    /// (virsh qemu-agent-command), empty when no reply is waited for.
    public func agentCommand(json: String, timeout: GuestAgent.Client.Timeout) async throws(RuntimeError) -> String {
        let client = try await agent()
        do {
            return try await client.executeRaw(json: json, timeout: timeout)
        } catch {
            throw Self.runtimeError(error)
        }
    }

    /// Asks the agent to power the guest off (`guest-shutdown`, mode powerdown).
    /// `virsh reboot --mode agent`: the agent's `guest-shutdown` with mode `reboot`; the guest
    /// restarts itself, QEMU stays.
    public func agentReboot() async throws(RuntimeError) {
        let client = try await agent()
        do {
            try await client.shutdown(mode: .reboot, timeout: .default)
        } catch .disconnected {
            // The guest went down before the grace period for an error was over: it worked.
        } catch {
            throw Self.runtimeError(error)
        }
    }

    public func agentShutdown() async throws(RuntimeError) {
        let client = try await agent()
        let marked = snapshot.stopping == nil
        if marked { update { $0.stopping = .shutdown } }
        do {
            try await client.shutdown(mode: .powerdown, timeout: .default)
        } catch .disconnected {
            // The guest went down before the grace period for an error was over: it worked.
        } catch {
            if marked { update { $0.stopping = nil } }
            throw Self.runtimeError(error)
        }
    }

    /// The agent client, over a socket pair whose other end the agent channel's broker serves
    /// as a forcing read-write client (virtkitd takes the pen, as libvirt holds the channel).
    /// The channel must be open in the guest: otherwise libvirt's "not connected".
    func agent() async throws(RuntimeError) -> GuestAgent.Client {
        guard let entry = brokers?.entries.first(where: { $0.record.targetName == Self.agentChannel }) else {
            throw RuntimeError(.argumentUnsupported, "argument unsupported: QEMU guest agent is not configured")
        }
        if agentConnected != true { await refreshChannelStates() }
        guard agentConnected == true else { throw Self.runtimeError(.notConnected) }
        if let agentClient, agentClient.isConnected { return agentClient }
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw RuntimeError(.systemError, "cannot create a socket pair for the guest agent: \(Errno(rawValue: errno))")
        }
        let broker = entry.broker
        let served = FileDescriptor(rawValue: pair[0])
        // Unstructured: the served end lives as long as the client's connection.
        Task { await broker.serve(connectedSocket: served, mode: .readWrite(force: true), label: "virtkitd's guest agent client") }
        do {
            let client = try await GuestAgent.Client.attach(connectedSocket: pair[1])
            agentClient = client
            return client
        } catch {
            throw Self.runtimeError(error)
        }
    }

    static func runtimeError(_ error: GuestAgent.Error) -> RuntimeError {
        switch error {
        case .notConnected, .timedOut, .disconnected: RuntimeError(.agentUnresponsive, error.description, cause: error)
        case .commandFailed: RuntimeError(.internalError, error.description, cause: error)
        case .malformed: RuntimeError(.invalidArgument, error.description, cause: error)
        }
    }
}
