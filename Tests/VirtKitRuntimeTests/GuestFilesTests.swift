import Foundation
import SystemPackage
import Testing
@testable import VirtKitRuntime

/// The domain log: its timestamps (ISO 8601 in UTC with milliseconds, as the log has always had
/// them) and the pty announcements QEMU writes to it.
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

    @Test func announcedPtysAreReadByAlias() {
        let log = """
            2026-11-22T00:02:08.838Z: starting up
            char device redirected to /dev/pts/3 (label charserial0)
            char device redirected to /dev/pts/12 (label charconsole1)
            qemu-system-x86_64: warning: something else
            """
        #expect(GuestFiles.announcedPtys(in: log) == ["serial0": "/dev/pts/3", "console1": "/dev/pts/12"])
    }

    @Test(arguments: [
        "char device redirected to /tmp/evil (label charserial0)",  // not a pty
        "char device redirected to /dev/pts/3 (label serial0)",  // not QEMU's label form
        "char device redirected to /dev/pts/3 (label charserial0",  // cut short
        "char device redirected to /dev/pts/3 x (label charserial0)",  // a space in the path
        "char device redirected to /dev/pts/3 (label char)",  // no alias
        "xchar device redirected to /dev/pts/3 (label charserial0)",
    ])
    func otherLinesAnnounceNothing(line: String) {
        #expect(GuestFiles.announcedPtys(in: line + "\n").isEmpty)
    }

    @Test func announcementsAreReadFromTheRunsOffset() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vk-announce-\(getpid()).log").path
        defer { unlink(path) }
        let earlier = "char device redirected to /dev/pts/1 (label charserial0)\n"
        try (earlier + "char device redirected to /dev/pts/2 (label charserial0)\n").write(toFile: path, atomically: false, encoding: .utf8)
        #expect(GuestFiles.announcedPtys(.init(path), from: Int64(earlier.utf8.count)) == ["serial0": "/dev/pts/2"])
        #expect(GuestFiles.announcedPtys(.init(path + ".missing"), from: 0).isEmpty)
    }

    @Test func anErrorsTailLeavesOutThePtyAnnouncements() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vk-tail-\(getpid()).log").path
        defer { unlink(path) }
        let header = "2026-12-07T00:00:00.000Z: starting up\n"
        let qemu = "char device redirected to /dev/pts/2 (label charserial0)\n"
            + "qemu-system-x86_64: could not load kernel '/nonexistent/vmlinux'\n\n"
        try (header + qemu).write(toFile: path, atomically: false, encoding: .utf8)
        #expect(GuestFiles.logTail(.init(path), from: Int64(header.utf8.count))
                == "qemu-system-x86_64: could not load kernel '/nonexistent/vmlinux'")
        #expect(GuestFiles.logTail(.init(path), from: Int64((header + qemu).utf8.count)) == "")
    }
}
