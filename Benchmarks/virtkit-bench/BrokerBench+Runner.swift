// One run of one case of `virtkit-bench broker`: connect, send, time, check, tear down.
import Foundation
import Logging
import Synchronization
import SystemPackage
import VirtKitBroker
import VirtKitHost

#if canImport(Glibc)
import Glibc
#endif

extension BrokerBench {
    struct Runner {
        let guest: BenchGuest
        /// Bytes the guest sends per run (a multiple of 64 KiB).
        let bytes: Int
        /// The client queue limit, nil for the broker's default.
        let queueLimit: Int?
        let logger: Logger
        let pattern = BenchPattern()

        var socketPath: String { guest.directory + "/broker.sock" }
        var logPath: String { guest.directory + "/console.log" }

        func measure(_ setup: Setup) async throws -> Sample {
            switch setup {
            case .direct:
                let descriptor = try UnixSocket.connect(to: FilePath(guest.benchSocket))
                let reader = StreamReader(descriptor: descriptor.rawValue, expected: bytes, pattern: pattern)
                reader.start()
                defer { reader.close() }
                return try await transfer(readers: [reader], broker: nil)
            case .broker(let count, let log):
                return try await measureBroker(readers: count, log: log)
            }
        }

        private func measureBroker(readers count: Int, log: LogSetup?) async throws -> Sample {
            removeLogs()
            var configuration = ChardevBroker.Configuration(name: "bench")
            if let queueLimit { configuration.clientQueueLimit = queueLimit }
            switch log {
            case .rotating: configuration.log = .init(path: FilePath(logPath))
            case .single: configuration.log = .init(path: FilePath(logPath), maxSize: 0)
            case nil: break
            }
            let peer = try UnixSocket.connect(to: FilePath(guest.benchSocket))
            let broker = try await ChardevBroker.start(peer: peer, configuration: configuration, logger: logger)
            var listener: BrokerListener?
            var readers: [StreamReader] = []
            var sample: Sample
            do {
                if count > 0 {
                    let listening = try UnixSocket.listen(at: FilePath(socketPath))
                    listener = try await BrokerListener.start(socket: listening, broker: broker, mode: .readOnly)
                    for _ in 0..<count {
                        let descriptor = try UnixSocket.connect(to: FilePath(socketPath))
                        readers.append(StreamReader(descriptor: descriptor.rawValue, expected: bytes, pattern: pattern))
                    }
                    let deadline = monotonicSeconds() + 10
                    while await broker.statistics().clients < count {
                        guard monotonicSeconds() < deadline else { throw BenchFailure("the broker did not attach \(count) readers") }
                        try await Task.sleep(for: .milliseconds(5))
                    }
                    for reader in readers { reader.start() }
                }
                sample = try await transfer(readers: readers, broker: broker)
            } catch {
                await tearDown(readers: readers, listener: listener, broker: broker)
                throw error
            }
            let statistics = await broker.statistics()
            await tearDown(readers: readers, listener: listener, broker: broker)
            if statistics.bytesFromGuest != bytes {
                sample.problems.append("the broker read \(statistics.bytesFromGuest) bytes, the guest sent \(bytes)")
            }
            if let log {
                if statistics.logBytesLost > 0 || statistics.logError != nil {
                    sample.problems.append("the log lost \(statistics.logBytesLost) bytes: \(statistics.logError ?? "")")
                }
                if let problem = checkLogs(log) { sample.problems.append(problem) }
                removeLogs()
            }
            return sample
        }

        private func tearDown(readers: [StreamReader], listener: BrokerListener?, broker: ChardevBroker) async {
            for reader in readers { reader.abort() }
            for reader in readers {
                while !reader.finished { try? await Task.sleep(for: .milliseconds(1)) }
                reader.close()
            }
            await listener?.stop()
            await broker.stop()
            UnixSocket.remove(at: FilePath(socketPath))
        }

        /// Has the guest send `bytes`, then waits for every reader to have them (or, with no
        /// reader, for the broker to have read them), 60 s at most. The clock is the receiving
        /// side's: each reader's own first and last byte, or the broker's byte count polled every ms.
        private func transfer(readers: [StreamReader], broker: ChardevBroker?) async throws -> Sample {
            // Let QEMU take the connection (and tell the guest) before the guest writes.
            try await Task.sleep(for: .milliseconds(200))
            let usageBefore = processUsage(), qemuBefore = guest.cpuSeconds, start = monotonicSeconds()
            let bytes = bytes
            let polled: (first: Double, last: Double)?
            if readers.isEmpty, let broker {
                async let counted = Self.pollBytes(of: broker, until: bytes, timeout: 120)
                let result = try await guest.run(guest.sendCommand(blocks: bytes / BenchPattern.period), timeout: 120)
                guard result.status == 0 else { throw BenchFailure("the guest's dd failed (\(result.status)): \(result.output)") }
                polled = await counted
            } else {
                let result = try await guest.run(guest.sendCommand(blocks: bytes / BenchPattern.period), timeout: 120)
                guard result.status == 0 else { throw BenchFailure("the guest's dd failed (\(result.status)): \(result.output)") }
                let deadline = monotonicSeconds() + 60
                while !readers.allSatisfy(\.finished), monotonicSeconds() < deadline {
                    try await Task.sleep(for: .milliseconds(2))
                }
                polled = nil
            }
            let wall = monotonicSeconds() - start
            var sample = Sample(rate: 0)
            let usageAfter = processUsage()
            sample.brokerCPU = (usageAfter.cpu - usageBefore.cpu) / wall
            sample.switchesPerMiB = Double(usageAfter.switches - usageBefore.switches) / Double(bytes >> 20)
            sample.qemuCPU = (guest.cpuSeconds - qemuBefore) / wall

            if readers.isEmpty {
                if let polled, polled.last > polled.first {
                    sample.rate = Double(bytes) / (polled.last - polled.first)
                } else {
                    sample.problems.append("the broker never counted all \(bytes) bytes")
                }
                return sample
            }
            let stragglers = readers.filter { !$0.finished }
            for reader in stragglers { reader.abort() }
            for reader in readers { while !reader.finished { try await Task.sleep(for: .milliseconds(1)) } }
            let results = readers.map(\.result)
            let readersCPU = results.map(\.cpuSeconds).reduce(0, +) / wall
            sample.readersCPU = readersCPU
            sample.brokerCPU -= readersCPU
            sample.rate = results.map(\.rate).min() ?? 0
            if results.count > 1, let first = results.compactMap(\.firstByte).min(), let last = results.compactMap(\.lastByte).max(),
               last > first {
                sample.aggregate = Double(results.map(\.matched).reduce(0, +)) / (last - first)
            }
            for (index, result) in results.enumerated() {
                sample.lost += bytes - result.matched
                sample.gaps += result.gaps
                if let failure = result.failure { sample.problems.append("reader \(index + 1): \(failure)") }
                if !result.complete {
                    sample.problems.append("reader \(index + 1) got \(result.matched) of \(bytes) bytes (stopped after 60 s)")
                }
                if !result.notices.isEmpty { sample.problems.append("reader \(index + 1) notices: \(result.notices)") }
            }
            return sample
        }

        /// When the broker's count of bytes from the guest first passed 0 and reached `bytes`.
        private static func pollBytes(of broker: ChardevBroker, until bytes: Int, timeout: Double) async -> (first: Double, last: Double)? {
            var first: Double?
            let deadline = monotonicSeconds() + timeout
            while monotonicSeconds() < deadline, !Task.isCancelled {
                let count = await broker.statistics().bytesFromGuest
                let now = monotonicSeconds()
                if count > 0, first == nil { first = now }
                if count >= bytes, let first { return (first, now) }
                try? await Task.sleep(for: .milliseconds(1))
            }
            return nil
        }

        // MARK: The log

        private var logFiles: [String] {
            let directory = URL(fileURLWithPath: guest.directory)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            return names.filter { $0.hasPrefix("console.log") }.map { directory.path + "/" + $0 }
        }

        private func removeLogs() {
            for file in logFiles { try? FileManager.default.removeItem(atPath: file) }
        }

        /// The log files, oldest first, must be the stream's last bytes exactly (all of them for
        /// one file); nil when they are.
        private func checkLogs(_ log: LogSetup) -> String? {
            var files: [String] = []
            var number = 1
            while FileManager.default.fileExists(atPath: "\(logPath).\(number)") {
                files.insert("\(logPath).\(number)", at: 0)
                number += 1
            }
            files.append(logPath)
            let sizes = files.map { (try? FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int) ?? 0 }
            let total = sizes.reduce(0, +)
            if case .single = log, total != bytes { return "the log holds \(total) bytes of \(bytes)" }
            if total > bytes { return "the log holds \(total) bytes, more than the \(bytes) sent" }
            var verifier = PatternVerifier(pattern: pattern, startingAt: bytes - total)
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { return "cannot read \(file)" }
                data.withUnsafeBytes { verifier.consume($0) }
                if let failure = verifier.failure { return "\(file): \(failure)" }
            }
            guard verifier.position == bytes, verifier.gaps == 0, verifier.notices.isEmpty else {
                return "the log's bytes end at stream offset \(verifier.position), not \(bytes) (notices: \(verifier.notices))"
            }
            return nil
        }
    }
}

/// This process's CPU time so far (user + system) in seconds, and its context switches (all
/// threads; voluntary and not).
func processUsage() -> (cpu: Double, switches: Int) {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    return (cpu, usage.ru_nvcsw + usage.ru_nivcsw)
}
