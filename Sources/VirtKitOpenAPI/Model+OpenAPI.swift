import VirtKitModel

// The runtime's model on the API's generated wire types. Each conversion names every field, so a
// schema change in docs/openapi.yaml that the model does not follow stops the build here.

/// A model value the document has no word for (a chardev role, a daemon mode): the daemon's bug.
package struct UnrepresentableValue: Error, CustomStringConvertible {
    package var description: String
}

extension Components.Schemas.DomainState {
    package init(_ state: DomainState) {
        switch state {
        case .running: self = .running
        case .paused: self = .paused
        case .shutoff: self = .shut_space_off
        case .crashed: self = .crashed
        case .starting: self = .starting
        case .inShutdown: self = .in_space_shutdown
        }
    }
}

extension Components.Schemas.DomainStateReason {
    package init(_ reason: DomainStateReason) {
        switch reason {
        case .unknown: self = .unknown
        case .booted: self = .booted
        case .userRequested: self = .user
        case .shutdown: self = .shutdown
        case .destroyed: self = .destroyed
        case .crashed: self = .crashed
        case .failed: self = .failed
        case .fromSnapshot: self = .from_space_snapshot
        case .daemonRestart: self = .daemon_space_restart
        }
    }
}

extension Components.Schemas.DomainSummary {
    package init(_ summary: DomainSummary) {
        self.init(id: summary.id.map(Int64.init), name: summary.name, uuid: summary.uuid,
                  state: .init(summary.state), reason: .init(summary.reason))
    }
}

extension Components.Schemas.NetworkSummary {
    package init(_ summary: NetworkSummary) {
        self.init(name: summary.name, uuid: summary.uuid, active: summary.active, persistent: summary.persistent,
                  autostart: summary.autostart, bridge: summary.bridge)
    }
}

extension Components.Schemas.NetworkLease {
    package init(_ lease: NetworkLease) {
        self.init(expiryTime: lease.expiryTime, mac: lease.mac, _type: lease.type == "ipv6" ? .ipv6 : .ipv4, address: lease.address,
                  prefix: lease.prefix, hostname: lease.hostname, clientID: lease.clientID, interface: lease.interface)
    }
}

extension Components.Schemas.DomainInfo {
    package init(_ info: DomainInfo) {
        self.init(
            summary: .init(info.summary), osType: info.osType,
            maxMemoryKiB: Int(clamping: info.maxMemoryKiB), usedMemoryKiB: Int(clamping: info.usedMemoryKiB),
            vcpus: Int(info.vcpus), cpuTimeSeconds: info.cpuTimeSeconds, persistent: info.persistent,
            autostart: info.autostart, pid: info.pid, accelerator: info.accelerator,
            channels: info.channels.map { .init(name: $0.name, connected: $0.connected) }
        )
    }
}

extension Components.Schemas.MonitorInfo {
    package init(_ info: MonitorInfo) {
        self.init(
            interactiveSocket: info.interactiveSocket, commandSocket: info.commandSocket,
            monitorPort: info.monitorPort.map(Int64.init), commandPort: info.commandPort.map(Int64.init),
            tcpAddresses: info.tcpAddresses, tcpDisabledReason: info.tcpDisabledReason
        )
    }
}

extension Components.Schemas.ChardevInfo {
    package init(_ info: ChardevInfo) throws(UnrepresentableValue) {
        guard let role = rolePayload(rawValue: info.role) else {
            throw UnrepresentableValue(description: "chardev role '\(info.role)' of \(info.alias) is not in the API")
        }
        func socket(_ mode: ConsoleMode) throws(UnrepresentableValue) -> String {
            guard let path = info.sockets[mode.rawValue] else {
                throw UnrepresentableValue(description: "chardev \(info.alias) has no \(mode.rawValue) socket")
            }
            return path
        }
        self.init(
            alias: info.alias, role: role, names: info.names, targetName: info.targetName,
            isDefaultConsole: info.isDefaultConsole, pty: info.pty, path: info.path, log: info.log,
            sockets: .init(readwrite: try socket(.readwrite), readonly: try socket(.readonly),
                           force: try socket(.force), shared: try socket(.shared)),
            clients: info.clients, bytesFromGuest: info.bytesFromGuest, bytesToGuest: info.bytesToGuest,
            logBytesLost: info.logBytesLost
        )
    }
}

extension ShutdownOptions {
    /// The request's options; a key left out takes the model's default.
    package init(_ request: Components.Schemas.ShutdownRequest) {
        let defaults = ShutdownOptions()
        let mode: Mode = switch request.mode {
        case .agent: .agent
        case .acpi: .acpi
        case nil: defaults.mode
        }
        let onTimeout: OnTimeout = switch request.onTimeout {
        case .leave: .leave
        case .destroy: .destroy
        case nil: defaults.onTimeout
        }
        self.init(mode: mode, timeoutSeconds: request.timeoutSeconds ?? defaults.timeoutSeconds,
                  wait: request.wait ?? defaults.wait, onTimeout: onTimeout)
    }
}
