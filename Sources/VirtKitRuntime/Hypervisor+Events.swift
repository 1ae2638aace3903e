import Foundation
import VirtKitModel

/// Domain events for the daemon's watchers: each subscriber gets its own stream, bounded (a
/// watcher that stops reading loses the oldest events, never slows a domain).
extension Hypervisor {
    /// Events from now on, until the caller stops iterating.
    public func events() -> AsyncStream<DomainEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: DomainEvent.self, bufferingPolicy: .bufferingNewest(1024))
        let key = UUID()
        eventSubscribers[key] = continuation
        continuation.onTermination = { [weak self] _ in
            // onTermination runs outside the actor: hop back in to forget the subscriber.
            Task { await self?.unsubscribe(key) }
        }
        return stream
    }

    private func unsubscribe(_ key: UUID) {
        eventSubscribers[key] = nil
    }

    /// Tells every subscriber that `kind` happened to `domain`.
    func publish(_ kind: DomainEvent.Kind, _ domain: DomainSummary) {
        guard !eventSubscribers.isEmpty else { return }
        let event = DomainEvent(domain: domain, kind: kind)
        for continuation in eventSubscribers.values { continuation.yield(event) }
    }
}
