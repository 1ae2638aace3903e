/// One client's output waiting to be taken: its scrollback replay, then live output up to a
/// byte limit, broker notices, and the close.
///
/// When live output would pass the limit, every waiting byte (the rest of the replay
/// included) is dropped and counted into one gap, so the client later reads
/// ``BrokerOutput/gap(skipped:)`` with the exact number of bytes it missed, then newer
/// output. Notices are never dropped. A plain value: the broker's event loop owns it.
struct ClientQueue {
    private enum Item {
        case bytes([UInt8])
        case gap(Int)
        case notice(BrokerOutput)
    }

    /// Live bytes that may wait before the queue is dropped.
    let limit: Int
    /// Bytes handed out in one ``BrokerOutput/bytes(_:)`` at most.
    let chunkSize: Int

    private var replay: [UInt8]
    private var replayOffset = 0
    private var items: [Item] = []
    private var itemsHead = 0
    /// Live bytes waiting (counted against ``limit``).
    private(set) var liveBytes = 0
    private var closeReason: CloseReason?
    private var closeDelivered = false

    init(replay: [UInt8], limit: Int, chunkSize: Int = 64 << 10) {
        self.replay = replay
        self.limit = max(1, limit)
        self.chunkSize = max(1, chunkSize)
    }

    /// Whether the close has been handed out (nothing more will come).
    var isFinished: Bool { closeDelivered }

    /// Whether nothing is waiting.
    var isEmpty: Bool {
        replayOffset == replay.count && itemsHead == items.count && (closeReason == nil || closeDelivered)
    }

    /// Adds live output, dropping the queue into a gap when it would pass ``limit``.
    mutating func push(_ bytes: [UInt8]) {
        guard !bytes.isEmpty, closeReason == nil else { return }
        if liveBytes + bytes.count > limit {
            // A chunk larger than the whole queue goes into the gap with the rest.
            let oversized = bytes.count > limit
            dropIntoGap(plus: oversized ? bytes.count : 0)
            if oversized { return }
        }
        liveBytes += bytes.count
        if items.count > itemsHead, case .bytes(var last) = items[items.count - 1], last.count < chunkSize {
            items[items.count - 1] = .bytes([])  // release the old array so the append does not copy it
            last.append(contentsOf: bytes)
            items[items.count - 1] = .bytes(last)
        } else {
            items.append(.bytes(bytes))  // shared with the other clients until one appends
        }
    }

    /// Adds a notice (never dropped).
    mutating func push(notice: BrokerOutput) {
        guard closeReason == nil else { return }
        items.append(.notice(notice))
    }

    /// Marks the end: after what is waiting, ``BrokerOutput/closed(_:)`` and then nothing.
    mutating func close(_ reason: CloseReason) {
        if closeReason == nil { closeReason = reason }
    }

    /// The next element, nil when nothing is waiting (or all was handed out).
    mutating func pop() -> BrokerOutput? {
        if replayOffset < replay.count {
            let end = min(replay.count, replayOffset + chunkSize)
            let chunk = Array(replay[replayOffset..<end])
            replayOffset = end
            if replayOffset == replay.count {
                replay = []
                replayOffset = 0
            }
            return .bytes(chunk)
        }
        if itemsHead < items.count {
            let item = items[itemsHead]
            items[itemsHead] = .gap(0)
            itemsHead += 1
            if itemsHead == items.count {
                items.removeAll(keepingCapacity: true)
                itemsHead = 0
            } else if itemsHead >= 64, itemsHead * 2 >= items.count {
                items.removeFirst(itemsHead)
                itemsHead = 0
            }
            switch item {
            case .bytes(let bytes):
                liveBytes -= bytes.count
                return .bytes(bytes)
            case .gap(let skipped): return .gap(skipped: skipped)
            case .notice(let notice): return notice
            }
        }
        if let closeReason, !closeDelivered {
            closeDelivered = true
            return .closed(closeReason)
        }
        return nil
    }

    /// Drops every waiting byte (replay and live), plus `extra` bytes never queued, into one
    /// gap ahead of the notices kept.
    private mutating func dropIntoGap(plus extra: Int) {
        var skipped = replay.count - replayOffset + extra
        replay = []
        replayOffset = 0
        var notices: [Item] = []
        for item in items[itemsHead...] {
            switch item {
            case .bytes(let bytes): skipped += bytes.count
            case .gap(let count): skipped += count
            case .notice: notices.append(item)
            }
        }
        items = skipped > 0 ? [.gap(skipped)] + notices : notices
        itemsHead = 0
        liveBytes = 0
    }
}
