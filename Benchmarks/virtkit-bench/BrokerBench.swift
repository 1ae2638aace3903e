// `virtkit-bench broker`: the console broker's throughput against QEMU's own chardev socket
// (issue 5). Prints figures and PASS/FAIL against the goals, never asserts; exits 0 unless it
// could not run.
//
// One QEMU (the test guest, TCG) sends a fixed pattern down a virtio-serial port whose chardev
// is a UNIX socket QEMU listens on. Each case connects something to that socket, has the guest
// `dd` N MiB of the pattern and times it as the receiving side sees it, first byte to last:
//   direct     one plain socket reader connected straight to QEMU's socket: the limit
//   broker     ChardevBroker connected to QEMU's socket, its BrokerListener serving a UNIX socket,
//              1 or K plain socket readers on it (what a `virtkit console` user gets)
//   log        ChardevBroker with its console log and no readers: bytes into the log (polled
//              from the broker's statistics every ms); the log files are checked afterwards
// Every reader checks every byte against the pattern (gaps the broker reports are counted as
// lost). Cases run interleaved, R rounds; the figure is the median round.
import Foundation
import Logging
import Synchronization
import SystemPackage
import VirtKitBroker
import VirtKitHost

#if canImport(Glibc)
import Glibc
#endif

enum BrokerBench {
    static let usage = """
        usage: virtkit-bench broker [--mib N] [--runs R] [--readers K] [--cases LIST] [--queue-kib Q]
                            [--qemu PATH] [--guest DIR] [--thread-slice-us U]
          --mib N       MiB the guest sends per run (default 256)
          --runs R      rounds of every case, interleaved; medians are printed (default 5)
          --readers K   readers in the fan-out case (default 8)
          --cases LIST  which cases, e.g. a,b (default all: a direct, b broker + 1 reader,
                        c broker + K readers, d log (2 MiB x 3), e log (one file), f log + 1 reader)
          --queue-kib Q the brokers' client queue limit in KiB (default: the broker's, 256 KiB)
          --thread-slice-us U  the brokers' kernel time slice, as virtkitd's option (default 100;
                        0: the kernel's default); readers, standing in for clients, keep the default
          --qemu PATH   qemu-system-x86_64 (default /usr/bin/qemu-system-x86_64)
          --guest DIR   the test guest, vmlinux and initrd.img (default $VIRTKIT_GUEST_DIR or
                        /var/cache/virtkit/guest; build it with Scripts/build-test-guest.sh)
        """

    struct Options {
        var mebibytes = 256
        var runs = 5
        var readers = 8
        var cases: Set<String>?
        /// The brokers' client queue limit, nil for the default.
        var queueLimit: Int?
        var qemu = "/usr/bin/qemu-system-x86_64"
        /// virtkitd's default.
        var threadSliceMicroseconds = 100
        var guest = ProcessInfo.processInfo.environment["VIRTKIT_GUEST_DIR"] ?? "/var/cache/virtkit/guest"

        init(_ arguments: [String]) throws {
            var rest = arguments[...]
            func number(_ name: String) throws -> Int {
                guard let text = rest.popFirst(), let value = Int(text), value > 0 else {
                    throw BenchFailure("\(name) needs a positive number\n\(usage)")
                }
                return value
            }
            while let argument = rest.popFirst() {
                switch argument {
                case "--mib": mebibytes = try number(argument)
                case "--runs": runs = try number(argument)
                case "--readers": readers = try number(argument)
                case "--queue-kib": queueLimit = try number(argument) << 10
                case "--thread-slice-us":
                    guard let text = rest.popFirst(), let value = Int(text), value == 0 || (100...100_000).contains(value) else {
                        throw BenchFailure("--thread-slice-us needs 0 or 100 to 100000\n\(usage)")
                    }
                    threadSliceMicroseconds = value
                case "--cases":
                    guard let list = rest.popFirst() else { throw BenchFailure("--cases needs a list such as a,b") }
                    cases = Set(list.split(separator: ",").map(String.init))
                case "--qemu": qemu = try rest.popFirst() ?? { throw BenchFailure("--qemu needs a path") }()
                case "--guest": guest = try rest.popFirst() ?? { throw BenchFailure("--guest needs a directory") }()
                case "-h", "--help": throw BenchFailure(usage)
                default: throw BenchFailure("unknown argument '\(argument)'\n\(usage)")
                }
            }
        }
    }

    /// What a case connects to QEMU's socket.
    enum Setup: Sendable {
        case direct
        case broker(readers: Int, log: LogSetup?)
    }

    enum LogSetup: Sendable {
        /// virtkitd's (and virtlogd's) defaults: 2 MiB files, 3 backups.
        case rotating
        /// One file that never rotates: it must hold every byte.
        case single
    }

    struct Case {
        let key: String
        let label: String
        let setup: Setup
        /// The goal as a fraction of the direct rate, if the issue sets one.
        let goal: Double?

        /// Readers the case has.
        var readers: Int {
            switch setup {
            case .direct: 1
            case .broker(let readers, _): readers
            }
        }
    }

    /// One run of one case.
    struct Sample {
        /// Bytes per second: the slowest reader's, or into the log.
        var rate: Double
        /// All readers together (fan-out only).
        var aggregate: Double?
        /// Stream bytes readers did not get (the broker's reported gaps), summed over readers.
        var lost = 0
        var gaps = 0
        /// CPU seconds per wall second over the transfer: this process but its readers (the
        /// broker, mostly), the readers' threads, QEMU's threads.
        var brokerCPU = 0.0
        var readersCPU = 0.0
        /// This process's context switches per MiB the guest sent.
        var switchesPerMiB = 0.0
        var qemuCPU = 0.0
        var problems: [String] = []
    }

    /// Runs the async benchmark from synchronous top-level code (the main thread waits; the
    /// cooperative threads stay free for the broker).
    static func main(_ arguments: [String]) -> Int32 {
        // As virtkitd does, on the main thread before other threads exist, so that they inherit it.
        if let options = try? Options(arguments), options.threadSliceMicroseconds > 0 {
            try? ThreadSlice.request(.microseconds(options.threadSliceMicroseconds))
        }
        let status = Mutex<Int32>(1)
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            let code = await run(arguments)
            status.withLock { $0 = code }
            done.signal()
        }
        done.wait()
        return status.withLock { $0 }
    }

    static func run(_ arguments: [String]) async -> Int32 {
        let options: Options
        do {
            options = try Options(arguments)
        } catch {
            let help = arguments.contains("--help") || arguments.contains("-h")
            emit("\(error)", to: help ? 1 : 2)
            return help ? 0 : 2
        }
        BenchCleanup.installHandlers()
        defer { BenchCleanup.cleanUp() }
        do {
            try await benchmark(options)
            return 0
        } catch {
            emit("virtkit-bench broker: \(error)", to: 2)
            return 1
        }
    }

    static func benchmark(_ options: Options) async throws {
        guard FileManager.default.isExecutableFile(atPath: options.qemu) else {
            throw BenchFailure("\(options.qemu) is missing (install qemu-system-x86)")
        }
        for file in ["vmlinux", "initrd.img"] where !FileManager.default.isReadableFile(atPath: options.guest + "/" + file) {
            throw BenchFailure("no test guest in \(options.guest): run Scripts/build-test-guest.sh")
        }
        let bytes = options.mebibytes << 20
        let blocks = bytes / BenchPattern.period
        var fileBlocks = 1
        while fileBlocks < blocks { fileBlocks *= 2 }
        let fileMiB = (fileBlocks * BenchPattern.period) >> 20
        // The file lives in the guest's root, a tmpfs of half its RAM (the initramfs in it too).
        let memoryMiB = max(512, 2 * fileMiB + 384)

        let cases = [
            Case(key: "a", label: "direct: 1 reader on QEMU's socket", setup: .direct, goal: nil),
            Case(key: "b", label: "broker: 1 reader", setup: .broker(readers: 1, log: nil), goal: 0.9),
            Case(key: "c", label: "broker: \(options.readers) readers, per reader",
                 setup: .broker(readers: options.readers, log: nil), goal: 0.8),
            Case(key: "d", label: "broker: log, no reader (2 MiB x 3)", setup: .broker(readers: 0, log: .rotating), goal: nil),
            Case(key: "e", label: "broker: log, no reader (one file)", setup: .broker(readers: 0, log: .single), goal: nil),
            Case(key: "f", label: "broker: log (2 MiB x 3) + 1 reader", setup: .broker(readers: 1, log: .rotating), goal: nil),
        ].filter { options.cases?.contains($0.key) ?? true }
        guard !cases.isEmpty else { throw BenchFailure("--cases names none of a, b, c, d, e, f") }

        let qemuVersion = (try? shellOutput([options.qemu, "--version"]))?.split(separator: "\n").first.map(String.init) ?? "?"
        emit("virtkit-bench broker: \(options.mebibytes) MiB per run, \(options.runs) interleaved rounds per case, medians")
        emit("source: \(qemuVersion), test guest (TCG, q35, 1 vCPU, \(memoryMiB) MiB), `dd bs=64k` of a fixed pattern "
            + "to a virtio-serial port; chardev: UNIX socket, QEMU listening")
        emit("host: \(ProcessInfo.processInfo.activeProcessorCount) CPUs; readers: plain blocking read(2) of 256 KiB on "
            + "threads of their own, every byte checked; broker: default configuration (1 MiB scrollback, "
            + (options.queueLimit.map { "client queue limit \($0 >> 10) KiB, not the default" } ?? "256 KiB client queues") + ")")
        let bootStart = monotonicSeconds()
        let guest = try await BenchGuest.boot(qemu: options.qemu, guestDirectory: options.guest, memoryMiB: memoryMiB)
        try await guest.prepare(fileBlocks: fileBlocks)
        emit(String(format: "guest booted and %d MiB data file built in %.1f s; port %@", fileMiB,
                     monotonicSeconds() - bootStart, guest.port.withLock { $0 } ?? "?"))

        var logger = Logger(label: "virtkit-bench.broker")
        logger.logLevel = .warning
        let bench = Runner(guest: guest, bytes: bytes, queueLimit: options.queueLimit, logger: logger)

        // Warm-up, untimed: the first dd, the first broker, the first listener.
        _ = try await bench.measure(.direct)
        _ = try await bench.measure(.broker(readers: 1, log: nil))

        var samples: [String: [Sample]] = [:]
        for round in 1...options.runs {
            var line = "round \(round)/\(options.runs):"
            for benchCase in cases {
                let sample = try await bench.measure(benchCase.setup)
                samples[benchCase.key, default: []].append(sample)
                line += String(format: " %@ %.0f", benchCase.key, sample.rate / 1_048_576)
                if sample.lost > 0 {
                    let due = Double(bytes) * Double(benchCase.readers)
                    line += String(format: " (lost %.1f%% in %d gaps)", Double(sample.lost) / due * 100, sample.gaps)
                }
                for problem in sample.problems { emit("  \(benchCase.key) round \(round): \(problem)") }
            }
            emit(line + " (MiB/s)")
        }
        printTable(cases: cases, samples: samples, bytes: bytes)
    }

    // MARK: The table

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    static func printTable(cases: [Case], samples: [String: [Sample]], bytes: Int) {
        let mib = 1_048_576.0
        let direct = median(samples["a"]?.map(\.rate) ?? [])
        emit("")
        emit("case".padding(toLength: 40, withPad: " ", startingAt: 0)
            + "   MiB/s    min    max  x direct  goal          lost  CPU: broker readers  QEMU  csw/MiB")
        var verdicts: [String] = []
        for benchCase in cases {
            let runs = samples[benchCase.key] ?? []
            let rates = runs.map(\.rate)
            let rate = median(rates)
            let ratio = direct > 0 ? String(format: "%.2f", rate / direct) : "-"
            var goal = benchCase.key == "a" ? "(the limit)" : ""
            if let target = benchCase.goal {
                let wrong = runs.contains { $0.lost > 0 || !$0.problems.isEmpty }
                let verdict = direct == 0 ? "n/a" : (rate / direct >= target && !wrong ? "PASS" : "FAIL")
                goal = String(format: ">= %.2f ", target) + verdict
                verdicts.append("(\(benchCase.key)) \(benchCase.label): \(ratio)x the direct rate, goal >= "
                    + String(format: "%.2f", target) + "x" + (wrong ? ", and bytes were lost" : "") + ": \(verdict)")
            }
            let received = benchCase.readers * bytes * runs.count
            let lost = runs.map(\.lost).reduce(0, +)
            let lostText = received > 0 ? String(format: "%.1f%%", Double(lost) / Double(received) * 100) : "-"
            emit("(\(benchCase.key)) \(benchCase.label)".padding(toLength: 40, withPad: " ", startingAt: 0)
                + String(format: " %7.1f %6.1f %6.1f", rate / mib, (rates.min() ?? 0) / mib, (rates.max() ?? 0) / mib)
                + ratio.leftPadded(10) + "  " + goal.padding(toLength: 12, withPad: " ", startingAt: 0)
                + lostText.leftPadded(7)
                + String(format: "  %10.0f%% %6.0f%% %4.0f%%  %7.0f", median(runs.map(\.brokerCPU)) * 100,
                         median(runs.map(\.readersCPU)) * 100, median(runs.map(\.qemuCPU)) * 100,
                         median(runs.map(\.switchesPerMiB))))
            let aggregates = runs.compactMap(\.aggregate)
            if !aggregates.isEmpty {
                emit("    all readers together".padding(toLength: 40, withPad: " ", startingAt: 0)
                    + String(format: " %7.1f", median(aggregates) / mib))
            }
        }
        emit("")
        emit("MiB/s: stream bytes received intact over first to last byte at the receiving side (a reader; for")
        emit("the log, the broker's count of bytes read and logged, polled every ms), median of the rounds; per")
        emit("reader = the slowest reader of each round. lost: stream bytes the broker dropped for readers that")
        emit("fell behind (reported as gaps), of all bytes due to readers. CPU: per wall second of the transfer:")
        emit("this process but its readers (the broker; ~1% is the benchmark's polling), the reader threads, QEMU")
        emit("(all threads). csw/MiB: this process's context switches per MiB sent (each time a reader, event loop")
        emit("or pool thread blocks or is preempted: the thread hand-offs).")
        for verdict in verdicts { emit(verdict) }
    }

    /// The first line a command prints.
    static func shellOutput(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}

/// Writes `line` and a newline to standard output at once (print buffers when stdout is a pipe
/// or file, and progress should show as it comes).
func emit(_ line: String = "", to descriptor: Int32 = 1) {
    _ = writeAll(descriptor, Array((line + "\n").utf8))
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
