import Foundation
import NIOCore
import NIOPosix
import Synchronization
import SystemPackage
import Testing
import VirtKitBroker
import VirtKitTestSupport

#if canImport(Glibc)
import Glibc
#endif

extension BrokerTests {
    /// The broker as virtkitd will run it: QEMU started paused with a pty serial console,
    /// the broker on the pty's slave before `cont`, the test guest booting through it.
    @Suite(.tags(.qemu)) struct RealQEMU {
        static let guestDirectory = TestGuestImage.directory

        /// Builds the test guest if needed (a no-op when it is up to date).
        static func buildGuest() throws {
            try TestGuestImage.built.get()
        }

        /// Reads `client` until `marker` shows up; fails after `timeout` (a liveness bound
        /// for a TCG boot on a loaded machine, not a speed check).
        static func read(_ client: BrokerClient, until marker: String, timeout: Duration) async throws -> Transcript {
            let needle = Array(marker.utf8)
            let seen = TranscriptBox()
            let found = try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    // Serial output comes a few bytes at a time: search only the new tail.
                    var searched = 0
                    let transcript = await VirtKitBrokerTests.read(client) { transcript in
                        defer { searched = max(0, transcript.bytes.count - needle.count) }
                        seen.set(transcript)
                        return transcript.bytes.firstRange(of: needle, from: searched) != nil
                    }
                    seen.set(transcript)
                    return transcript.bytes.contains(needle)
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return false
                }
                defer { group.cancelAll() }
                return try await group.next() ?? false
            }
            let transcript = seen.value
            guard found else {
                let tail = String(decoding: transcript.bytes.suffix(1_000), as: UTF8.self)
                throw TestFailure("no \(marker) on the console within \(timeout); it showed \(transcript.bytes.count) bytes, ending: \(tail)")
            }
            return transcript
        }

        @Test func bootThroughThePtyIsLoggedFromTheFirstByteAndTheShellAnswers() async throws {
            try Self.buildGuest()
            let directory = try makeTemporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            // QEMU names the pty on stdout, its errors go to stderr: both land in one file.
            let outputPath = directory + "/qemu.out"
            #expect(FileManager.default.createFile(atPath: outputPath, contents: nil))
            let output = try #require(FileHandle(forWritingAtPath: outputPath))
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [
                "qemu-system-x86_64", "-machine", "q35", "-accel", "tcg", "-m", "128M", "-nodefaults",
                "-no-user-config", "-display", "none", "-S",
                "-kernel", Self.guestDirectory + "/vmlinux", "-initrd", Self.guestDirectory + "/initrd.img",
                "-append", "console=ttyS0 mitigations=off cryptomgr.notests no_timer_check",
                "-chardev", "pty,id=console", "-serial", "chardev:console",
                "-monitor", "unix:\(directory)/mon.sock,server=on,wait=off",
            ]
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = output
            process.standardError = output
            try process.run()
            defer {
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                process.waitUntilExit()
                try? output.close()
            }

            // QEMU names the pty: "char device redirected to /dev/pts/N (label console)".
            var ptyPath: String?
            for _ in 0..<1_000 where ptyPath == nil && process.isRunning {
                let text = String(decoding: contents(outputPath), as: UTF8.self)
                if let range = text.range(of: "redirected to "), let end = text[range.upperBound...].firstIndex(of: " ") {
                    ptyPath = String(text[range.upperBound..<end])
                } else {
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            let path = try #require(ptyPath, "QEMU said: \(String(decoding: contents(outputPath), as: UTF8.self))")

            // As virtkitd will: open the slave, start the broker, then let the guest run.
            let slave = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC)
            try #require(slave >= 0)
            let logPath = directory + "/console.log"
            let broker = try await ChardevBroker.start(
                peer: FileDescriptor(rawValue: slave),
                configuration: .init(name: "qemu-guest", log: .init(path: .init(logPath))))
            let console = try await broker.attach(.readWrite(force: false))
            try await Self.sendMonitorCommand("cont", socketPath: directory + "/mon.sock")

            let boot: Transcript
            do {
                boot = try await Self.read(console, until: "VIRTKIT-GUEST-READY", timeout: .seconds(180))
            } catch {
                let qemu = String(decoding: contents(outputPath), as: UTF8.self)
                let statistics = await broker.statistics()
                throw TestFailure("\(error); QEMU running: \(process.isRunning), said: \(qemu); broker: \(statistics)")
            }
            let bootText = String(decoding: boot.bytes, as: UTF8.self)
            #expect(bootText.contains("Linux version"))
            #expect(boot.gaps.isEmpty)

            // The shell answers typed input.
            try await console.write(Array("echo vk-$((6*7))\n".utf8))
            _ = try await Self.read(console, until: "vk-42", timeout: .seconds(60))

            // A late client replays the boot; the log has it from the first byte.
            let late = try await broker.attach(.readOnly)
            let replay = try await Self.read(late, until: "vk-42", timeout: .seconds(60))
            #expect(sameBytes(replay.bytes.prefix(boot.bytes.count), boot.bytes[...]))
            let log = contents(logPath)
            #expect(sameBytes(log.prefix(boot.bytes.count), boot.bytes[...]))

            // QEMU going away closes the console for every client.
            kill(process.processIdentifier, SIGKILL)
            await broker.waitUntilPeerCloses()
            #expect(await drain(console).closed == CloseReason.peerClosed)
            await broker.stop()
        }

        /// Sends one HMP command to QEMU's monitor socket (retrying while QEMU starts listening).
        /// Runs one HMP command and waits for the monitor's prompt after it (a busy QEMU may
        /// take its time to accept the connection), polling without blocking a thread.
        static func sendMonitorCommand(_ command: String, socketPath: String) async throws {
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
                guard fd >= 0 else { throw TestFailure("socket: \(errno)") }
                defer { close(fd) }
                var address = sockaddr_un()
                address.sun_family = sa_family_t(AF_UNIX)
                withUnsafeMutableBytes(of: &address.sun_path) { raw in
                    for (i, byte) in socketPath.utf8.prefix(raw.count - 1).enumerated() { raw[i] = byte }
                }
                let connected = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
                }
                guard connected == 0 else {
                    try await Task.sleep(for: .milliseconds(20))
                    continue
                }
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                let line = Array((command + "\n").utf8)
                guard Glibc.write(fd, line, line.count) == line.count else { continue }
                var answer: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 4096)
                // The banner's prompt, then the one after the command's output.
                while ContinuousClock.now < deadline {
                    let n = Glibc.read(fd, &buffer, buffer.count)
                    if n > 0 {
                        answer += buffer[0..<n]
                        if String(decoding: answer, as: UTF8.self).components(separatedBy: "(qemu) ").count >= 3 { return }
                    } else if n == 0 {
                        break
                    } else {
                        try await Task.sleep(for: .milliseconds(10))
                    }
                }
            }
            throw TestFailure("the monitor at \(socketPath) did not take '\(command)' within 60 s")
        }
    }
}

/// The latest transcript of a reading task, for a report when it times out.
final class TranscriptBox: Sendable {
    private let storage = Mutex(Transcript())

    var value: Transcript { storage.withLock { $0 } }

    func set(_ transcript: Transcript) { storage.withLock { $0 = transcript } }
}
