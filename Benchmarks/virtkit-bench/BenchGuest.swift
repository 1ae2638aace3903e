// The broker benchmark's data source: a real QEMU running the bundled test guest under TCG, with
// a virtio-serial port whose chardev is a UNIX socket QEMU listens on, and the guest's serial
// console (a root shell) on another socket, driven from here.
import Foundation
import Synchronization
import SystemPackage
import VirtKitHost

#if canImport(Glibc)
import Glibc
#endif

/// What the benchmark started: killed and removed on every way out (``cleanUp()`` from the
/// normal path, from SIGINT/SIGTERM/SIGHUP, and at exit).
enum BenchCleanup {
    private static let state = Mutex<(pids: [pid_t], directories: [String])>(([], []))
    /// The signal sources, kept alive; written once, by ``installHandlers()`` before any run.
    nonisolated(unsafe) private static var signalSources: [any DispatchSourceSignal] = []

    static func register(pid: pid_t) { state.withLock { $0.pids.append(pid) } }
    static func register(directory: String) { state.withLock { $0.directories.append(directory) } }

    /// Kills (SIGKILL) and reaps every process registered, removes every directory. Idempotent.
    static func cleanUp() {
        let (pids, directories) = state.withLock { state in
            defer { state = ([], []) }
            return (state.pids, state.directories)
        }
        for pid in pids {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        }
        for directory in directories { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// Cleans up on SIGINT, SIGTERM and SIGHUP (then exits 130), and at exit.
    static func installHandlers() {
        atexit { BenchCleanup.cleanUp() }
        for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                FileHandle.standardError.write(Data("virtkit-bench: interrupted, stopping QEMU\n".utf8))
                cleanUp()
                exit(130)
            }
            source.resume()
            signalSources.append(source)
        }
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The guest: QEMU's process, the shell on its serial console, and the bench port's socket.
final class BenchGuest: Sendable {
    static let portName = "org.example.bench"

    let pid: pid_t
    let directory: String
    /// The UNIX socket QEMU listens on for the bench port's chardev (one connection at a time).
    let benchSocket: String
    /// The guest's device for the bench port, e.g. `/dev/vport0p1` (set by ``prepare(fileBlocks:)``).
    let port = Mutex<String?>(nil)

    private let serial: Int32
    /// Console output not yet consumed by ``run(_:timeout:)``.
    private let transcript = Mutex<[UInt8]>([])
    private let serialEnded = Atomic<Bool>(false)
    private let commandNumber = Atomic<Int>(0)

    private init(pid: pid_t, directory: String, serial: Int32) {
        self.pid = pid
        self.directory = directory
        self.serial = serial
        benchSocket = directory + "/bench.sock"
    }

    var logPath: String { directory + "/qemu.log" }
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Starts QEMU (`qemu` is its path) with `memoryMiB` of guest RAM in a fresh directory under
    /// /tmp, connects to its serial console (QEMU waits for that before it runs the guest) and
    /// returns once the guest printed its ready line.
    static func boot(qemu: String, guestDirectory: String, memoryMiB: Int) async throws -> BenchGuest {
        var template = Array("/tmp/vkbb-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw BenchFailure("mkdtemp: errno \(errno)") }
        let directory = String(cString: made)
        BenchCleanup.register(directory: directory)
        let arguments = [
            qemu, "-machine", "q35", "-accel", "tcg", "-m", "\(memoryMiB)M", "-nodefaults", "-no-user-config",
            "-display", "none",
            "-kernel", guestDirectory + "/vmlinux", "-initrd", guestDirectory + "/initrd.img",
            "-append", "console=ttyS0 mitigations=off cryptomgr.notests no_timer_check",
            "-chardev", "socket,id=serial,path=\(directory)/serial.sock,server=on,wait=on", "-serial", "chardev:serial",
            "-device", "virtio-serial-pci",
            "-chardev", "socket,id=bench,path=\(directory)/bench.sock,server=on,wait=off",
            "-device", "virtserialport,chardev=bench,name=\(portName)",
        ]
        let output = try FileDescriptor.open(
            FilePath(directory + "/qemu.log"), .writeOnly, options: [.create, .truncate, .closeOnExec],
            permissions: [.ownerReadWrite])
        defer { try? output.close() }
        // In a session of its own: a Ctrl-C reaches the benchmark, which kills it.
        let pid = try ProcessSpawner.spawn(
            executable: FilePath(qemu), arguments: arguments, environment: ProcessInfo.processInfo.environment,
            output: output, placements: [])
        BenchCleanup.register(pid: pid)

        var serial: Int32 = -1
        for _ in 0..<500 where serial < 0 {
            if let fd = try? UnixSocket.connect(to: FilePath(directory + "/serial.sock")) {
                serial = fd.rawValue
            } else {
                if ProcessExitWatcher.reap(pid) != nil { break }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        let logText = (try? String(contentsOfFile: directory + "/qemu.log", encoding: .utf8)) ?? ""
        guard serial >= 0 else { throw BenchFailure("QEMU did not open its serial socket; it said: \(logText)") }
        let guest = BenchGuest(pid: pid, directory: directory, serial: serial)
        guest.startReadingSerial()
        _ = try await guest.waitFor("VIRTKIT-GUEST-READY", timeout: 180)
        return guest
    }

    /// Finds the bench port's device and builds the data file: `fileBlocks` (a power of two)
    /// times the 64 KiB pattern block in /tmp/vkb, doubled in place (the guest's root is a
    /// tmpfs of half its RAM).
    func prepare(fileBlocks: Int) async throws {
        let found = try await run(
            "for f in /sys/class/virtio-ports/*; do [ \"$(cat $f/name)\" = \(Self.portName) ] && echo VKB-PORT=${f##*/}=; done",
            timeout: 60)
        guard let name = Self.value("VKB-PORT", in: found.output) else {
            throw BenchFailure("the guest has no virtio port named \(Self.portName): \(found.output)")
        }
        port.withLock { $0 = "/dev/" + name }
        let built = try await run(
            "\(BenchPattern.guestBlockCommand) > /tmp/vkb && n=1 && while [ $n -lt \(fileBlocks) ]; do "
                + "dd if=/tmp/vkb of=/tmp/vkb bs=64k count=$n seek=$n conv=notrunc 2>/dev/null || break; n=$((n*2)); done; "
                + "echo VKB-SIZE=$(wc -c < /tmp/vkb)=",
            timeout: 600)
        let size = Self.value("VKB-SIZE", in: built.output)
        guard built.status == 0, size == "\(fileBlocks * BenchPattern.period)" else {
            throw BenchFailure("could not build the guest's data file (size \(size ?? "?")): \(built.output)")
        }
    }

    /// The command that sends the first `blocks` 64 KiB blocks of the data file down the port.
    func sendCommand(blocks: Int) -> String {
        let device = port.withLock { $0 } ?? "/dev/null"
        return "dd if=/tmp/vkb of=\(device) bs=64k count=\(blocks) 2>/dev/null"
    }

    /// Runs `command` in the guest's shell; returns its exit status and what the console showed
    /// (the echoed command line included).
    func run(_ command: String, timeout: Double) async throws -> (status: Int, output: String) {
        let number = commandNumber.add(1, ordering: .relaxed).newValue
        // The typed line reads VKB-D""ONE, the output VKB-DONE: only the output matches.
        let line = "\(command); echo VKB-D\"\"ONE-\(number)-$?=\n"
        guard writeAll(serial, Array(line.utf8)) else { throw BenchFailure("cannot write to the guest's console") }
        let output = try await waitFor("VKB-DONE-\(number)-", through: "=", timeout: timeout)
        let status = Int(output.suffix(from: "VKB-DONE-\(number)-").dropLast()) ?? -1
        return (status, output)
    }

    /// QEMU's CPU time so far (user + system, all threads), in seconds.
    var cpuSeconds: Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return 0 }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After "pid (comm)": state is field 3, utime 14, stime 15.
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    // MARK: The console

    private func startReadingSerial() {
        let thread = Thread { [self] in
            Thread.current.name = "vkb-console"
            try? ThreadSlice.request(.zero)  // the bench's own console reader: the default slice
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(serial, $0.baseAddress, $0.count) }
                if n < 0, errno == EINTR { continue }
                if n <= 0 { break }
                transcript.withLock { $0.append(contentsOf: buffer[0..<n]) }
            }
            serialEnded.store(true, ordering: .releasing)
        }
        thread.start()
    }

    /// Waits (polling, so no cooperative thread blocks) until the console shows `marker` and then
    /// `terminator`; returns everything up to there and drops it from the transcript.
    private func waitFor(_ marker: String, through terminator: String = "", timeout: Double) async throws -> String {
        let needle = Array(marker.utf8), end = Array(terminator.utf8)
        let deadline = monotonicSeconds() + timeout
        while true {
            let found: [UInt8]? = transcript.withLock { bytes in
                guard let range = bytes.firstRange(of: needle) else { return nil }
                var upTo = range.upperBound
                if !end.isEmpty {
                    guard let tail = bytes[upTo...].firstRange(of: end) else { return nil }
                    upTo = tail.upperBound
                }
                defer { bytes.removeFirst(upTo) }
                return Array(bytes[..<upTo])
            }
            if let found { return String(decoding: found, as: UTF8.self) }
            let exited = serialEnded.load(ordering: .acquiring)
            if exited || monotonicSeconds() > deadline {
                let tail = transcript.withLock { String(decoding: $0.suffix(2000), as: UTF8.self) }
                throw BenchFailure(
                    "no \(marker) on the guest's console \(exited ? "(QEMU closed it)" : "within \(Int(timeout)) s"); "
                        + "it showed: \(tail)\nQEMU said: \(log)")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// `NAME=value=` in `text`, value letters and digits (the echoed command line has `$` there).
    static func value(_ name: String, in text: String) -> String? {
        var rest = Substring(text)
        while let range = rest.range(of: name + "=") {
            rest = rest[range.upperBound...]
            let value = rest.prefix { $0.isLetter || $0.isNumber }
            if !value.isEmpty, rest.dropFirst(value.count).first == "=" { return String(value) }
        }
        return nil
    }
}

private extension String {
    /// What follows the last `marker`.
    func suffix(from marker: String) -> Substring {
        guard let range = range(of: marker, options: .backwards) else { return "" }
        return self[range.upperBound...]
    }
}

/// write(2) until all of `bytes` went out.
func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) -> Bool {
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
        if n < 0, errno == EINTR { continue }
        if n <= 0 { return false }
        offset += n
    }
    return true
}
