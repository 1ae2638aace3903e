import Foundation

/// Runs blocking work (a child process waited for, a blocking socket) on a thread of its own and
/// awaits it, so the Swift concurrency pool, which the in-process brokers and fakes of other
/// tests need, is never blocked by a test.
public enum OffPool {
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try body() })
            }
        }
    }
}
