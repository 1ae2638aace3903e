import Foundation

/// What libvirt's connection calls report about the host: its name, CPUs and memory, read from
/// the kernel once. QEMU's version comes from the runtime's capabilities probe.
final class HostFacts: Sendable {
    let hostname: String
    let machine: String
    let cpus: Int32
    let memoryKiB: UInt64
    let megahertz: Int32

    init() {
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
}
