/// One line of `virtkit list`.
public struct DomainSummary: Codable, Sendable, Equatable {
    /// The runtime id while running, nil when shut off (virsh prints `-`).
    public var id: Int?
    public var name: String
    public var uuid: String
    public var state: DomainState
    public var reason: DomainStateReason

    public init(id: Int?, name: String, uuid: String, state: DomainState, reason: DomainStateReason) {
        self.id = id
        self.name = name
        self.uuid = uuid
        self.state = state
        self.reason = reason
    }
}
