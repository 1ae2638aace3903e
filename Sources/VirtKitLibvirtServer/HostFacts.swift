import Foundation
import Synchronization

/// What libvirt's connection calls report about the host: its name, CPUs, memory and QEMU's
/// version. Read from the kernel once; QEMU's version on first use (it costs a process).
final class HostFacts: Sendable {
    let hostname: String
    let machine: String
    let cpus: Int32
    let memoryKiB: UInt64
    let megahertz: Int32
    let emulator: String
    private let qemuVersionCache = Mutex<UInt64?>(nil)

    init(emulator: String = "/usr/bin/qemu-system-x86_64") {
        self.emulator = emulator
        hostname = ProcessInfo.processInfo.hostName
        var names = utsname()
        uname(&names)
        machine = withUnsafeBytes(of: &names.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        cpus = Int32(ProcessInfo.processInfo.activeProcessorCount)
        memoryKiB = ProcessInfo.processInfo.physicalMemory / 1024
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let mhzLine = cpuinfo.split(separator: "\n").first { $0.hasPrefix("cpu MHz") }
        megahertz = mhzLine.flatMap { $0.split(separator: ":").last }.flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            .map { Int32($0) } ?? 0
    }

    /// QEMU's version as libvirt numbers it (major * 1,000,000 + minor * 1,000 + micro), from
    /// `qemu-system-x86_64 --version`; 0 when it cannot be run.
    var qemuVersion: UInt64 {
        if let known = qemuVersionCache.withLock({ $0 }) { return known }
        let version = Self.readVersion(emulator)
        qemuVersionCache.withLock { $0 = version }
        return version
    }

    static func readVersion(_ emulator: String) -> UInt64 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: emulator)
        process.arguments = ["--version"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return 0 }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        // "QEMU emulator version 7.2.0 (Debian 1:7.2+dfsg-7+deb12u5)"
        guard let word = output.split(separator: " ").drop(while: { $0 != "version" }).dropFirst().first else { return 0 }
        let parts = word.split(separator: ".").map { UInt64($0) ?? 0 }
        guard parts.count >= 2 else { return 0 }
        return parts[0] * 1_000_000 + parts[1] * 1_000 + (parts.count > 2 ? parts[2] : 0)
    }
}
