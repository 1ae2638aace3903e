import Foundation
import SystemPackage
import Testing
import VirtKitBroker

#if canImport(Glibc)
import Glibc
#endif

extension BrokerTests {
    /// A real pty, as virtkitd uses QEMU's: QEMU holds the master, the broker the slave.
    @Suite struct Pty {
        /// A new pty pair: (master, slave), both close-on-exec, the slave not our controlling tty.
        static func openPair() throws -> (master: FileDescriptor, slave: FileDescriptor) {
            // posix_openpt and friends are not in Swift's Glibc module; dlsym finds them in libc.
            guard let openpt = libc("posix_openpt", as: (@convention(c) (Int32) -> Int32).self),
                let grant = libc("grantpt", as: (@convention(c) (Int32) -> Int32).self),
                let unlock = libc("unlockpt", as: (@convention(c) (Int32) -> Int32).self),
                let name = libc("ptsname", as: (@convention(c) (Int32) -> UnsafeMutablePointer<CChar>?).self)
            else { throw TestFailure("libc has no posix_openpt/grantpt/unlockpt/ptsname") }
            let master = openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)
            guard master >= 0 else { throw TestFailure("posix_openpt: \(Errno(rawValue: errno))") }
            guard grant(master) == 0, unlock(master) == 0, let path = name(master) else {
                let error = Errno(rawValue: errno)
                close(master)
                throw TestFailure("grantpt/unlockpt/ptsname: \(error)")
            }
            let slave = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC)
            guard slave >= 0 else {
                let error = Errno(rawValue: errno)
                close(master)
                throw TestFailure("open \(String(cString: path)): \(error)")
            }
            return (FileDescriptor(rawValue: master), FileDescriptor(rawValue: slave))
        }

        /// The libc function `name`, typed as `type`.
        static func libc<Function>(_ name: String, as type: Function.Type) -> Function? {
            // RTLD_DEFAULT is a null handle in glibc.
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
            return unsafeBitCast(symbol, to: type)
        }

        @Test func bytesPassUnchangedBothWaysThroughARawPty() async throws {
            let (master, slave) = try Self.openPair()
            let qemu = GuestEnd(descriptor: master)
            defer { qemu.close() }
            let broker = try await ChardevBroker.start(peer: slave, configuration: .init(name: "ptyvm"))
            let watcher = try await broker.attach(.readOnly)
            let writer = try await broker.attach(.readWrite(force: false))

            // Guest output with the bytes a cooked tty would translate or act on: CR, LF,
            // ^C, ^D, DEL and 8-bit bytes.
            let output: [UInt8] = Array("login: \r\n".utf8) + [3, 4, 0x7f, 0xff, 0x80, 10, 13] + Array("end".utf8)
            try await qemu.write(output)
            let seen = await read(watcher) { $0.bytes.count >= output.count }
            #expect(seen.bytes == output)
            let seenByWriter = await read(writer) { $0.bytes.count >= output.count }
            #expect(seenByWriter.bytes == output)

            // Typed input reaches QEMU's side unchanged (no echo, no CR/NL mapping).
            let input: [UInt8] = Array("root\r".utf8) + [3, 10, 0xfe]
            try await writer.write(input)
            let received = try await qemu.read { $0.count >= input.count }
            #expect(received == input)

            var settings = termios()
            #expect(tcgetattr(master.rawValue, &settings) == 0)
            #expect(settings.c_lflag & tcflag_t(ECHO | ICANON) == 0)

            await broker.stop()
            // The slave is closed: the master sees the hang-up (EIO or EOF).
            let tail = try await qemu.read { _ in false }
            #expect(tail.isEmpty)
        }

        /// QEMU closing its side of the pty ends the console for every client.
        @Test func masterClosingEndsTheConsole() async throws {
            let (master, slave) = try Self.openPair()
            let broker = try await ChardevBroker.start(peer: slave, configuration: .init(name: "ptyvm"))
            let client = try await broker.attach(.readOnly)
            _ = try master.writeAll(Array("bye\r\n".utf8))
            _ = await read(client) { $0.bytes.count >= 5 }
            try master.close()
            await broker.waitUntilPeerCloses()
            let rest = await drain(client)
            #expect(rest.closed == CloseReason.peerClosed)
            await broker.stop()
        }
    }
}
