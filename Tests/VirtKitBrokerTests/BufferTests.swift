import Testing
@testable import VirtKitBroker

extension BrokerTests {
    /// The scrollback ring and the per-client queue, without I/O.
    @Suite struct Buffers {
        @Test(arguments: [1, 7, 100, 4_096, 10_000])
        func ringKeepsTheNewestBytesInOrder(chunk: Int) {
            var ring = ScrollbackRing(capacity: 1_000)
            let stream = (0..<25_000).map { UInt8(truncatingIfNeeded: $0 * 7 + $0 / 256) }
            for start in stride(from: 0, to: stream.count, by: chunk) {
                ring.append(stream[start..<min(stream.count, start + chunk)])
                let end = min(stream.count, start + chunk)
                #expect(ring.snapshot() == Array(stream[max(0, end - 1_000)..<end]))
            }
            #expect(ring.count == 1_000)
        }

        @Test func ringOfZeroKeepsNothing() {
            var ring = ScrollbackRing(capacity: 0)
            ring.append([1, 2, 3][...])
            #expect(ring.snapshot().isEmpty)
        }

        @Test func queueReplaysThenLiveInOrder() {
            var queue = ClientQueue(replay: [1, 2, 3], limit: 10, chunkSize: 2)
            queue.push([4, 5])
            queue.push([6])
            var out: [BrokerOutput] = []
            while let element = queue.pop() { out.append(element) }
            #expect(out == [.bytes([1, 2]), .bytes([3]), .bytes([4, 5]), .bytes([6])])
            queue.close(.peerClosed)
            #expect(queue.pop() == .closed(.peerClosed))
            #expect(queue.pop() == nil)
            #expect(queue.isFinished)
        }

        @Test func overflowDropsTheQueueIntoOneExactGap() {
            var queue = ClientQueue(replay: [9, 9, 9], limit: 4)
            queue.push([1, 2, 3])
            queue.push(notice: .penLost(to: "bob"))
            queue.push([4, 5])  // 3 + 2 > 4: drops replay (3) and [1, 2, 3], keeps [4, 5]
            queue.push([6, 7, 8])  // 2 + 3 > 4: drops [4, 5], keeps [6, 7, 8]
            queue.push([1, 2, 3, 4, 5])  // larger than the limit: dropped with the rest
            queue.push([10])
            var out: [BrokerOutput] = []
            while let element = queue.pop() { out.append(element) }
            #expect(out == [.gap(skipped: 3 + 3 + 2 + 3 + 5), .penLost(to: "bob"), .bytes([10])])
            #expect(queue.liveBytes == 0)
        }

        @Test func closedQueueIgnoresLaterOutput() {
            var queue = ClientQueue(replay: [], limit: 4)
            queue.close(.stopped)
            queue.push([1])
            queue.close(.peerClosed)
            #expect(queue.pop() == .closed(.stopped))
            #expect(queue.pop() == nil)
        }
    }
}
