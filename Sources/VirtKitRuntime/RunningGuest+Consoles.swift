import Foundation
import Logging
import SystemPackage
import VirtKitBroker
import VirtKitDomain
import VirtKitHost
import VirtKitModel
import VirtKitMonitor
import VirtKitQMP
#if canImport(Glibc)
import Glibc
#endif

/// The guest's console brokers and the state of its channels.
extension RunningGuest {
    /// Reads which virtio channels the guest holds open from `query-chardev`'s `frontend-open`
    /// (as libvirt does on a reconnect): VSERPORT_CHANGE events sent while no daemon listened
    /// are lost.
    func refreshChannelStates() async {
        guard let chardevs = try? await qmp.queryChardev() else { return }
        var states: [String: Bool] = [:]
        for chardev in chardevs where chardev.label.hasPrefix("char") {
            if let name = channelName(alias: String(chardev.label.dropFirst("char".count))) {
                states[name] = chardev.frontendOpen
            }
        }
        update { $0.channels.merge(states) { _, new in new } }
    }

    /// Replaces the console brokers (a hot-plug added or removed one).
    func setBrokers(_ brokers: GuestBrokers) {
        self.brokers = brokers
    }

    /// Takes over the guest's console brokers (stopped when QEMU exits).
    func adopt(_ brokers: GuestBrokers) {
        self.brokers = brokers
    }

    /// The virtio channel name of device `alias` (`channel0`), as the builder named it.
    func channelName(alias: String) -> String? {
        for (i, channel) in domain.devices.channels.enumerated() where (channel.alias ?? "channel\(i)") == alias {
            if case .virtioChannel(let name?, _) = channel.target { return name }
        }
        return nil
    }
}
