import VirtKitModel

/// Hot-plug on running guests (virsh attach-device, detach-device).
extension Hypervisor {
    /// virsh attach-device (live): one chardev device hot-plugged into running guest `name`.
    public func attachDevice(name: String, xml: String) async throws(RuntimeError) {
        try await running(name).attachDevice(xml: xml, settings: consoleSettings)
    }

    /// virsh detach-device (live).
    public func detachDevice(name: String, xml: String) async throws(RuntimeError) {
        try await running(name).detachDevice(xml: xml)
    }
}
