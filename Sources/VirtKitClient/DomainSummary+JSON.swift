import VirtKitAPI
import VirtKitJSON

extension DomainSummary {
    /// A summary from the API's JSON, read with VirtKitJSON's parser: `list` is served by the
    /// static front too, which avoids JSONDecoder's first-use cost, and the full tree reads it
    /// the same way. nil when a field is missing or of the wrong kind.
    init?(_ value: JSONValue) {
        guard let name = value["name"]?.string, let uuid = value["uuid"]?.string,
              let state = value["state"]?.string.flatMap(DomainState.init(rawValue:)),
              let reason = value["reason"]?.string.flatMap(DomainStateReason.init(rawValue:)) else { return nil }
        let id: Int?
        switch value["id"] {
        case nil, .null?: id = nil
        case let number?:
            guard let value = number.int else { return nil }
            id = value
        }
        self.init(id: id, name: name, uuid: uuid, state: state, reason: reason)
    }

    /// `GET /v1/domains`'s answer.
    static func list(from body: [UInt8]) -> [DomainSummary]? {
        guard let elements = (try? JSONValue(parsing: body))?.array else { return nil }
        var summaries: [DomainSummary] = []
        summaries.reserveCapacity(elements.count)
        for element in elements {
            guard let summary = DomainSummary(element) else { return nil }
            summaries.append(summary)
        }
        return summaries
    }
}
