extension JSONValue {
    /// A JSON object that keeps its keys in the order they were added or parsed.
    ///
    /// Lookups go through a dictionary index; equality ignores key order, as JSON does.
    /// A duplicate key (which QEMU never sends) keeps its first position and its last value.
    public struct Object: Sendable, Hashable, ExpressibleByDictionaryLiteral {
        /// The members in order.
        public private(set) var members: [(key: String, value: JSONValue)] = []
        private var positions: [String: Int] = [:]

        /// An empty object.
        public init() {}

        /// An object with `members` in the given order.
        public init(_ members: some Sequence<(String, JSONValue)>) {
            for (key, value) in members { self[key] = value }
        }

        /// An object from a dictionary; the keys are sorted for a stable order.
        public init(_ dictionary: [String: JSONValue]) {
            self.init(dictionary.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        }

        public init(dictionaryLiteral elements: (String, JSONValue)...) { self.init(elements) }

        /// The value for `key`; setting nil removes the member, setting a new key appends it.
        public subscript(key: String) -> JSONValue? {
            get { positions[key].map { members[$0].value } }
            set {
                if let position = positions[key] {
                    if let newValue {
                        members[position].value = newValue
                    } else {
                        members.remove(at: position)
                        positions[key] = nil
                        for index in position..<members.count { positions[members[index].key] = index }
                    }
                } else if let newValue {
                    positions[key] = members.count
                    members.append((key, newValue))
                }
            }
        }

        /// The keys in order.
        public var keys: [String] { members.map(\.key) }
        /// The number of members.
        public var count: Int { members.count }
        /// Whether there are no members.
        public var isEmpty: Bool { members.isEmpty }
        /// The members as a dictionary (order lost).
        public var dictionary: [String: JSONValue] {
            Dictionary(members.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
        }

        public static func == (lhs: Object, rhs: Object) -> Bool {
            guard lhs.count == rhs.count else { return false }
            return lhs.members.allSatisfy { rhs[$0.key] == $0.value }
        }

        public func hash(into hasher: inout Hasher) {
            // Order-independent, to agree with ==.
            var combined = 0
            for member in members {
                var memberHasher = Hasher()
                memberHasher.combine(member.key)
                memberHasher.combine(member.value)
                combined ^= memberHasher.finalize()
            }
            hasher.combine(count)
            hasher.combine(combined)
        }
    }
}

extension JSONValue.Object: Sequence {
    public func makeIterator() -> some IteratorProtocol<(key: String, value: JSONValue)> {
        members.makeIterator()
    }
}
