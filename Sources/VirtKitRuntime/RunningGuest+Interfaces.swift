import VirtKitDomain
import VirtKitQMP

extension RunningGuest {
    /// `domif-setlink`: the link of the NIC named by its tap or its MAC, up or down, through
    /// QMP's `set_link` on its device (`netN`); kept in the status for the live XML.
    public func setLink(_ interface: String, up: Bool) async throws(RuntimeError) {
        let nics = domain.devices.interfaces
        let taps = snapshot.taps ?? [:]
        let mac = MACAddress.normalise(interface)
        guard let index = nics.indices.first(where: { taps["net\($0)"]?.name == interface || (mac != nil && nics[$0].mac == mac) }) else {
            throw RuntimeError(.invalidArgument, "invalid argument: domain '\(domain.name)' has no interface '\(interface)'")
        }
        let alias = "net\(index)"
        do {
            _ = try await qmp.execute("set_link", arguments: .object(["name": .string(alias), "up": .bool(up)]))
        } catch {
            throw RuntimeError(.operationFailed, "cannot set the link of interface '\(interface)' of domain '\(domain.name)': \(error)",
                               cause: error)
        }
        update { status in
            var down = Set(status.linksDown ?? [])
            if up { down.remove(alias) } else { down.insert(alias) }
            status.linksDown = down.isEmpty ? nil : down.sorted()
        }
    }
}
