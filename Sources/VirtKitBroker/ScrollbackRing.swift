/// The last `capacity` bytes of a console's output, oldest dropped first.
///
/// Storage grows as output arrives up to `capacity`, then wraps in place.
struct ScrollbackRing {
    /// The most bytes kept.
    let capacity: Int
    private var storage: [UInt8] = []
    /// Once full, the index of the oldest byte (and of the next write).
    private var head = 0

    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    /// Bytes held now (at most ``capacity``).
    var count: Int { storage.count }

    /// Appends `bytes`, dropping the oldest bytes past ``capacity``.
    mutating func append(_ bytes: ArraySlice<UInt8>) {
        guard capacity > 0, !bytes.isEmpty else { return }
        var rest = bytes
        if rest.count >= capacity {
            storage = Array(rest.suffix(capacity))
            head = 0
            return
        }
        if storage.count < capacity {
            let fill = min(capacity - storage.count, rest.count)
            storage.append(contentsOf: rest.prefix(fill))
            rest = rest.dropFirst(fill)
            if rest.isEmpty { return }
        }
        // Full: overwrite the oldest bytes from head on, wrapping at the end.
        let first = min(capacity - head, rest.count)
        let head = head
        storage.withUnsafeMutableBufferPointer { destination in
            rest.withUnsafeBufferPointer { source in
                let firstPart = UnsafeBufferPointer(rebasing: source[..<first])
                _ = UnsafeMutableBufferPointer(rebasing: destination[head..<(head + first)])
                    .update(fromContentsOf: firstPart)
                let second = source.count - first
                if second > 0 {
                    _ = UnsafeMutableBufferPointer(rebasing: destination[0..<second])
                        .update(fromContentsOf: UnsafeBufferPointer(rebasing: source[first...]))
                }
            }
        }
        self.head = (head + rest.count) % capacity
    }

    /// Everything held, oldest first.
    func snapshot() -> [UInt8] {
        guard storage.count == capacity, head > 0 else { return storage }
        var out: [UInt8] = []
        out.reserveCapacity(capacity)
        out.append(contentsOf: storage[head...])
        out.append(contentsOf: storage[..<head])
        return out
    }
}
