import Foundation
import SystemPackage
import Testing
@testable import VirtKitBroker

#if canImport(Glibc)
import Glibc
#endif

extension BrokerTests {
    /// A socket chardev's log across a daemon killed between logging peeked bytes and consuming
    /// them: the commit record the dead daemon left says how many of the socket's first bytes
    /// are logged already, and the next broker does not log them again.
    @Suite struct LogCommits {
        /// A broker over a socket whose first bytes are `pending`, with a log that already holds
        /// `logged` and a commit record saying `pending.count` bytes were being logged after
        /// `logged` minus what of `pending` it holds. Returns the log after `more` went through.
        /// `consumed`: the kill came as the consuming `recvmsg` returned, so `pending` is gone
        /// from the socket and the record's mark holds its last byte.
        static func recover(logBefore: String, logged: String, pending: String, more: String,
                            consumed: Bool = false) async throws -> (String, Bool) {
            let directory = try makeTemporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let log = FilePath(directory + "/vm.log")
            let commitPath = FilePath(directory + "/.serial0.commit")
            FileManager.default.createFile(atPath: log.string, contents: Data((logBefore + logged).utf8))
            var status = stat()
            stat(log.string, &status)
            let commit = try LogCommit.open(commitPath)
            let last = pending.utf8.last ?? 0
            commit.begin(count: pending.utf8.count, position: (UInt64(status.st_ino), logBefore.utf8.count), last: last)
            if consumed { commit.mark.pointee = last }
            let (guestSide, brokerSide) = try GuestEnd.socketPair()
            let guest = GuestEnd(descriptor: guestSide)
            try await guest.write(Array(((consumed ? "" : pending) + more).utf8))
            var configuration = ChardevBroker.Configuration(name: "vm", log: .init(path: log, maxSize: 0, maxBackups: 0))
            configuration.logCommitPath = commitPath
            let broker = try await ChardevBroker.start(peer: brokerSide, configuration: configuration)
            guest.close()
            await broker.waitUntilPeerCloses()
            await broker.stop()
            let text = String(decoding: FileManager.default.contents(atPath: log.string) ?? Data(), as: UTF8.self)
            return (text, try LogCommit.open(commitPath).pending == nil)
        }

        @Test func bytesLoggedBeforeTheKillAreNotLoggedAgain() async throws {
            let (log, cleared) = try await Self.recover(logBefore: "boot\n", logged: "1\n2\n", pending: "1\n2\n", more: "3\n")
            #expect(log == "boot\n1\n2\n3\n")
            #expect(cleared)
        }

        @Test func bytesPartlyLoggedAreLoggedFromWhereTheLogStopped() async throws {
            // The kill came in the middle of the write: "1\n" reached the log, "2\n" did not.
            let (log, _) = try await Self.recover(logBefore: "boot\n", logged: "1\n", pending: "1\n2\n", more: "3\n")
            #expect(log == "boot\n1\n2\n3\n")
        }

        @Test func bytesLoggedAndConsumedBeforeTheKillLeaveTheNextBytesAlone() async throws {
            // The kill came as the consuming recvmsg returned: "1\n2\n" is logged and gone from
            // the socket; "3\n" after it must not be taken for it.
            let (log, cleared) = try await Self.recover(logBefore: "boot\n", logged: "1\n2\n", pending: "1\n2\n", more: "3\n",
                                                        consumed: true)
            #expect(log == "boot\n1\n2\n3\n")
            #expect(cleared)
        }

        @Test func theConsumeWritesTheMarkWithTheLastByteItTakes() throws {
            let directory = try makeTemporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let commit = try LogCommit.open(FilePath(directory + "/.c.commit"))
            commit.begin(count: 3, position: (1, 0), last: UInt8(ascii: "c"))
            #expect(commit.pending?.consumed == false)
            var pair: [Int32] = [0, 0]
            #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
            defer { close(pair[0]) }
            #expect(write(pair[0], "abcd", 4) == 4)
            defer { close(pair[1]) }
            #expect(PeerSocketReader.consume(from: pair[1], count: 3, mark: commit.mark) == 3)
            #expect(commit.pending?.consumed == true)
            var rest = [UInt8](repeating: 0, count: 4)
            #expect(read(pair[1], &rest, 4) == 1 && rest[0] == UInt8(ascii: "d"))
        }

        @Test func bytesNotLoggedYetAreLogged() async throws {
            let (log, _) = try await Self.recover(logBefore: "boot\n", logged: "", pending: "1\n2\n", more: "3\n")
            #expect(log == "boot\n1\n2\n3\n")
        }
    }
}
