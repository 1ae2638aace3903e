import Foundation
import SystemPackage
import Testing
import VirtKitTestSupport
import VirtKitAPI
import VirtKitHost
import VirtKitRuntime
#if canImport(Glibc)
import Glibc
#endif

/// The console broker on a real guest: many clients on one console, scrollback for late
/// joiners, the pen, a stalled client, and a complete rotated log.
@Suite("Console broker: many clients on a real guest's console", .tags(.qemu))
struct ConsoleBrokerTests {
    /// The client socket of `alias` in `mode` for the running guest.
    static func socket(_ hypervisor: Hypervisor, _ name: String, _ device: String?, _ mode: ConsoleMode) async throws -> String {
        try await hypervisor.consoleSocket(name: name, device: device, mode: mode).string
    }

    @Test("three clients see the same boot; a late joiner gets the scrollback; the pen: in use, --force, --readonly, --shared")
    func clientsScrollbackAndPen() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let hypervisor = try await harness.hypervisor()
        let name = "fanout"
        _ = try await hypervisor.define(xml: harness.domainXML(name: name))
        _ = try await hypervisor.start(name: name, paused: true)

        // Three clients before the CPUs run: the domain's own socket path (read-write, takes
        // the pen), a read-only observer and a shared typist.
        let owner = try SocketReader(connectingTo: harness.serialPath(name))
        let observer = try SocketReader(connectingTo: try await Self.socket(hypervisor, name, "serial0", .readonly))
        let typist = try SocketReader(connectingTo: try await Self.socket(hypervisor, name, nil, .shared))
        _ = try await hypervisor.resume(name: name)
        for client in [owner, observer, typist] {
            #expect(await client.waitFor("VIRTKIT-GUEST-READY", timeout: 60), "got: \(client.text)")
        }
        // Byte for byte the same boot, up to the marker.
        let boots = [owner, observer, typist].map { client -> [UInt8] in
            let marker = Array("VIRTKIT-GUEST-READY".utf8)
            let end = client.transcript.indices.first { client.transcript[$0...].starts(with: marker) } ?? 0
            return Array(client.transcript[..<end])
        }
        #expect(boots[0].count > 1000, "the boot output is kernel messages, more than a few bytes")
        #expect(boots[0] == boots[1] && boots[1] == boots[2])

        // A late joiner reads the boot it missed (the scrollback), then live output.
        let late = try SocketReader(connectingTo: try await Self.socket(hypervisor, name, "console0", .readonly))
        #expect(await late.waitFor("VIRTKIT-GUEST-READY", timeout: 10), "late joiner got: \(late.text)")

        // The owner types; everyone sees the answer.
        try owner.send("echo owner-$((40+2))\n")
        for client in [owner, observer, typist, late] {
            #expect(await client.waitFor("owner-42", timeout: 20))
        }
        // The shared client types alongside the pen.
        try typist.send("echo shared-$((50+5))\n")
        #expect(await owner.waitFor("shared-55", timeout: 20))

        // A second read-write client is refused while the pen is held.
        let second = try SocketReader(connectingTo: try await Self.socket(hypervisor, name, "serial0", .readwrite))
        #expect(await second.waitFor("is in use by another client; use --force or --shared", timeout: 10), "\(second.text)")

        // The observer cannot type: told so, and nothing reaches the guest.
        try observer.send("echo observer-$((60+6))\n")
        #expect(await observer.waitFor("read-only and cannot write", timeout: 10))

        // --force takes the pen: the owner is told and demoted; the forcer types.
        let forcer = try SocketReader(connectingTo: try await Self.socket(hypervisor, name, nil, .force))
        #expect(await owner.waitFor("this session is now read-only", timeout: 10), "\(owner.text)")
        try forcer.send("echo forced-$((70+7))\n")
        #expect(await forcer.waitFor("forced-77", timeout: 20))
        try owner.send("echo demoted-$((80+8))\n")
        #expect(await owner.waitFor("was taken over by", timeout: 10))
        try forcer.send("echo check-$((90+9))\n")
        #expect(await forcer.waitFor("check-99", timeout: 20))
        // The refused lines never ran in the guest.
        let seen = late.text + String(decoding: late.transcript, as: UTF8.self)
        #expect(!seen.contains("observer-66") && !seen.contains("demoted-88"))

        let chardevs = try await hypervisor.chardevs(name: name)
        let serial = chardevs.first { $0.alias == "serial0" }
        #expect(serial?.names.contains("console0") == true && serial?.isDefaultConsole == true)
        #expect((serial?.clients ?? 0) >= 5, "\(String(describing: serial))")

        _ = try await hypervisor.destroy(name: name)
        #expect(harness.leftovers().isEmpty, "left: \(harness.leftovers())")
        #expect(access(harness.serialPath(name), F_OK) != 0, "the served socket is removed at stop")
    }

    /// Lines `1...count` of the console log (rotated files oldest first), as the guest's `seq`
    /// printed them; whatever else the log holds (boot, prompts) is skipped.
    static func numberedLines(log: String) -> [Int] {
        var files: [String] = []
        var index = 1
        while FileManager.default.fileExists(atPath: log + ".\(index)") {
            files.insert(log + ".\(index)", at: 0)
            index += 1
        }
        files.append(log)
        var bytes: [UInt8] = []
        for file in files { bytes += AtomicFile.read(FilePath(file)) ?? [] }
        return numberedLines(bytes: bytes)
    }

    /// The lines of `bytes` that are a number and nothing else, in order.
    static func numberedLines(bytes: [UInt8]) -> [Int] {
        var numbers: [Int] = []
        var current = 0
        var digits = 0
        var clean = true
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                // A run of digits longer than any line number is not one.
                if digits < 12 { current = current * 10 + Int(byte - UInt8(ascii: "0")) } else { clean = false }
                digits += 1
            case UInt8(ascii: "\r"):
                continue
            case UInt8(ascii: "\n"):
                if clean, digits > 0 { numbers.append(current) }
                current = 0
                digits = 0
                clean = true
            default:
                clean = false
            }
        }
        return numbers
    }

    @Test("a stalled client stops nobody; the guest's numbered lines on ttyS0 are in the rotated logs, each once, in order")
    func stalledClientAndCompleteLog() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        // 20 MiB of lines into 1 MiB files: every rotation happens many times over.
        let settings = ConsoleSettings(maxSize: 1 << 20, maxBackups: 40)
        let hypervisor = try await harness.hypervisor(consoleSettings: settings)
        let name = "flood"
        _ = try await hypervisor.define(xml: harness.domainXML(name: name))
        _ = try await hypervisor.start(name: name, paused: false)

        // A client that never reads, with the smallest receive buffer.
        let stalled = try UnixSocket.connect(to: FilePath(try await Self.socket(hypervisor, name, nil, .readonly)))
        defer { try? stalled.close() }
        var small: Int32 = 4096
        setsockopt(stalled.rawValue, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))

        let reader = try SocketReader(connectingTo: harness.serialPath(name))
        #expect(await reader.waitFor("VIRTKIT-GUEST-READY", timeout: 60))
        // 2,690,000 numbered lines with CR LF: 20.4 MiB.
        let count = 2_690_000
        try reader.send("seq 1 \(count); echo FLOOD-$((1+1))-DONE\n")
        #expect(await reader.waitFor("FLOOD-2-DONE", timeout: 900), "reader got \(reader.transcript.count) bytes")
        try reader.send("echo alive-$((3*3))\n")
        #expect(await reader.waitFor("alive-9", timeout: 30), "the guest goes on")

        let log = harness.layout.logDirectory.appending(name).appending("serial0.log").string
        let numbers = Self.numberedLines(log: log)
        #expect(numbers.count == count, "lines in the logs: \(numbers.count)")
        #expect(numbers == Array(1...count), "first difference at line \((numbers.indices.first { numbers[$0] != $0 + 1 } ?? -1) + 1)")
        #expect(FileManager.default.fileExists(atPath: log + ".20"), "rotated about 20 times")

        // The stalled client fell behind: it reads the scrollback, then a gap with a count.
        let statistics = try await hypervisor.chardevs(name: name).first { $0.alias == "serial0" }
        #expect((statistics?.bytesFromGuest ?? 0) > 20 << 20)
        #expect(statistics?.logBytesLost == 0)
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var fromStalled: [UInt8] = []
        let flags = fcntl(stalled.rawValue, F_GETFL)
        _ = fcntl(stalled.rawValue, F_SETFL, flags | O_NONBLOCK)
        // Read what it has now, as the broker refills the socket, until the gap line shows.
        let marker = Array("bytes skipped]".utf8)
        var idle = 0
        while idle < 2000, !fromStalled.suffix(1 << 20).containsSubsequence(marker) {
            let n = read(stalled.rawValue, &buffer, buffer.count)
            if n > 0 {
                fromStalled += buffer[0..<n]
                idle = 0
            } else if n == 0 {
                break
            } else {
                idle += 1
                try await Task.sleep(for: .milliseconds(5))
            }
        }
        let text = String(decoding: fromStalled, as: UTF8.self)
        #expect(text.contains("bytes skipped]"), "the stalled client is told what it missed")

        _ = try await hypervisor.destroy(name: name)
        #expect(harness.leftovers().isEmpty, "left: \(harness.leftovers())")
    }
}

extension Collection where Element == UInt8 {
    func containsSubsequence(_ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, count >= needle.count else { return false }
        var index = startIndex
        while index != endIndex {
            if self[index...].starts(with: needle) { return true }
            index = self.index(after: index)
        }
        return false
    }
}
