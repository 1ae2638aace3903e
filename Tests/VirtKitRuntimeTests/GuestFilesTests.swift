import Foundation
import Testing
@testable import VirtKitRuntime

/// The domain log's timestamps: ISO 8601 in UTC with milliseconds, as the log has always had them.
@Suite struct GuestFilesTests {
    @Test(arguments: [
        (1_795_305_728, 838_123_456, "2026-11-22T00:02:08.838Z"),
        (0, 0, "1970-01-01T00:00:00.000Z"),
        (951_782_400, 5_000_000, "2000-02-29T00:00:00.005Z"),
        (4_102_444_799, 999_999_999, "2099-12-31T23:59:59.999Z"),
    ])
    func timestampsAreUTCWithMilliseconds(seconds: Int, nanoseconds: Int, expected: String) {
        #expect(GuestFiles.timestamp(at: timespec(tv_sec: seconds, tv_nsec: nanoseconds)) == expected)
    }

    @Test func timestampsMatchFoundationsISO8601() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for seconds in stride(from: 0, to: 4_000_000_000, by: 123_456_789) {
            let date = Date(timeIntervalSince1970: TimeInterval(seconds) + 0.25)
            #expect(GuestFiles.timestamp(at: timespec(tv_sec: seconds, tv_nsec: 250_000_000)) == formatter.string(from: date))
        }
    }
}
