import VirtKitGuestAgent
import VirtKitModel

/// The guest agent of running guests (virsh qemu-agent-command).
extension Hypervisor {
    /// virsh qemu-agent-command: `command` as JSON text; `timeout` in libvirt's terms (-2 blocks,
    /// -1 the default, 0 does not wait, N seconds).
    public func agentCommand(name: String, command: String, timeout: Int) async throws(RuntimeError) -> String {
        try await running(name).agentCommand(json: command, timeout: GuestAgent.Client.Timeout(libvirt: timeout))
    }
}
