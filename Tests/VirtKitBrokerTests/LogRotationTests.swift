import Foundation
import SystemPackage
import Testing
import VirtKitBroker

#if canImport(Glibc)
import Glibc
#endif

extension BrokerTests {
    /// The console log: complete from the first byte, rotated like virtlogd by renaming.
    @Suite struct LogRotation {
        /// Writes `stream` through a broker in uneven chunks, with `watch` run once the log has
        /// its first bytes; returns after the broker stopped (log closed).
        static func run(
            _ stream: [UInt8], log: ChardevBroker.LogConfiguration, watch: (() -> Void)? = nil
        ) async throws {
            let fixture = try await BrokerFixture.start(log: log)
            let observer = try await fixture.broker.attach(.readOnly)
            var start = 0
            var chunk = 1_000
            while start < stream.count {
                let end = min(stream.count, start + chunk)
                try await fixture.guest.write(Array(stream[start..<end]))
                if start == 0, let watch {
                    _ = await read(observer) { $0.bytes.count >= end }
                    watch()
                }
                start = end
                chunk = chunk % 100_000 + 37_123
            }
            await fixture.finish()
        }

        @Test func rotationKeepsTheNewestOutputWholeAndInOrder() async throws {
            let directory = try makeTemporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let path = directory + "/testvm.log"
            let maxSize = 2 << 20
            let stream = numberedLines(atLeast: 20 << 20)
            // Holds the first log file open: rotation must rename it, not truncate it.
            var firstFile: FileDescriptor?
            try await Self.run(stream, log: .init(path: .init(path), maxSize: maxSize, maxBackups: 3)) {
                firstFile = try? FileDescriptor.open(path, .readOnly)
            }

            let names = [path + ".3", path + ".2", path + ".1", path]
            #expect(!FileManager.default.fileExists(atPath: path + ".4"))
            var kept: [UInt8] = []
            for name in names {
                let file = contents(name)
                #expect(file.count <= maxSize, "\(name) has \(file.count) bytes")
                #expect(file.first == UInt8(ascii: "l"), "\(name) starts mid-line")
                if name != path {
                    #expect(file.count > maxSize - 1_024, "\(name) was rotated early")
                    #expect(file.last == UInt8(ascii: "\n"), "\(name) ends mid-line")
                }
                kept += file
            }
            // The four files are the end of the stream, contiguous, every line once.
            #expect(kept.count > 3 * (maxSize - 1_024))
            #expect(sameBytes(kept[...], stream.suffix(kept.count)))
            #expect(stream[stream.count - kept.count - 1] == UInt8(ascii: "\n"))

            // The first file, long since renamed away and deleted, still reads whole.
            let descriptor = try #require(firstFile)
            defer { try? descriptor.close() }
            var first = [UInt8](repeating: 0, count: maxSize + 1)
            let count = try first.withUnsafeMutableBytes { try descriptor.read(fromAbsoluteOffset: 0, into: $0) }
            #expect(count > maxSize - 1_024 && count <= maxSize)
            #expect(sameBytes(first[..<count], stream[..<count]))
        }

        @Test func maxSizeZeroNeverRotates() async throws {
            let directory = try makeTemporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let path = directory + "/testvm.log"
            let stream = numberedLines(atLeast: 5 << 20)
            try await Self.run(stream, log: .init(path: .init(path), maxSize: 0))
            #expect(!FileManager.default.fileExists(atPath: path + ".1"))
            #expect(sameBytes(contents(path)[...], stream[...]))
        }

        @Test func zeroBackupsStartsOverAndAnExistingLogIsAppended() async throws {
            let directory = try makeTemporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let path = directory + "/testvm.log"
            let earlier = Array("from the last boot\n".utf8)
            #expect(FileManager.default.createFile(atPath: path, contents: Data(earlier)))
            let small = numberedLines(atLeast: 1_000)
            try await Self.run(small, log: .init(path: .init(path), maxSize: 64 << 10, maxBackups: 0))
            #expect(contents(path) == earlier + small)

            let stream = numberedLines(atLeast: 200_000)
            try await Self.run(stream, log: .init(path: .init(path), maxSize: 64 << 10, maxBackups: 0))
            #expect(!FileManager.default.fileExists(atPath: path + ".1"))
            let file = contents(path)
            #expect(file.count <= 64 << 10)
            #expect(sameBytes(file[...], stream.suffix(file.count)))
        }

        /// Output without newlines (binary, or a very long line) is cut at max size exactly.
        @Test func outputWithoutNewlinesIsCutAtMaxSize() async throws {
            let directory = try makeTemporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let path = directory + "/testvm.log"
            let stream = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 % 251 == 10 ? 11 : $0 % 251) }
            try await Self.run(stream, log: .init(path: .init(path), maxSize: 100_000, maxBackups: 2))
            #expect(contents(path + ".2").count == 100_000)
            #expect(contents(path + ".1").count == 100_000)
            #expect(contents(path).count == 100_000)
            #expect(contents(path + ".2") + contents(path + ".1") + contents(path) == Array(stream.suffix(300_000)))
        }

        @Test func logOpenFailureIsReported() async throws {
            let (guestSide, brokerSide) = try GuestEnd.socketPair()
            defer { try? guestSide.close() }
            let configuration = ChardevBroker.Configuration(
                name: "testvm", log: .init(path: "/nonexistent-virtkit-dir/testvm.log"))
            let error = await #expect(throws: BrokerError.self) {
                _ = try await ChardevBroker.start(peer: brokerSide, configuration: configuration)
            }
            #expect(error == .logOpenFailed(path: "/nonexistent-virtkit-dir/testvm.log", errno: .noSuchFileOrDirectory))
        }
    }
}
