// virtkit-bench: prints figures, never asserts. Run with `swift run -c release virtkit-bench [FILE]`.
// `virtkit-bench broker [--mib N] [--runs R] ...` measures the console broker against QEMU instead
// (BrokerBench.swift; Benchmarks/compare-broker.sh builds and runs it).
//
// In-library: define (parse + defaults + validate) + write back + build the argv, on one domain,
// as many times as fit in a few seconds; prints domains per second and microseconds per domain.
import Foundation
import VirtKitDomain
import VirtKitQEMU

#if canImport(Glibc)
import Glibc
#endif

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func readFile(_ path: String) -> String? {
    guard let file = fopen(path, "r") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&buffer, 1, buffer.count, file)
        if n == 0 { break }
        bytes.append(contentsOf: buffer[0..<n])
    }
    return String(decoding: bytes, as: UTF8.self)
}

if CommandLine.arguments.count > 1, CommandLine.arguments[1] == "broker" {
    exit(BrokerBench.main(Array(CommandLine.arguments.dropFirst(2))))
}

let path = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "Benchmarks/ten-chardevs.xml"
guard let xml = readFile(path) else {
    print("virtkit-bench: cannot read \(path)")
    exit(2)
}

func once() throws -> Int {
    let domain = try DomainParser.define(xml: xml)
    let written = DomainFormatter.format(domain)
    let argv = try QEMUCommandLineBuilder.libvirtPretend(for: domain).build(domain).arguments
    return written.utf8.count + argv.count
}

// `virtkit-bench FILE N`: only N iterations, for a profiler (valgrind --tool=callgrind).
if CommandLine.arguments.count > 2, let n = Int(CommandLine.arguments[2]) {
    var sink = 0
    for _ in 0..<n { sink &+= (try? once()) ?? 0 }
    print("ran \(n) iterations (\(sink))")
    exit(0)
}

do {
    let chardevs = try DomainParser.define(xml: xml)
    let count = chardevs.devices.serials.count + chardevs.devices.parallels.count
        + chardevs.devices.channels.count + chardevs.devices.consoles.count
    print("domain: \(path) (\(count) chardevs after defaults)")
    var sink = 0
    for _ in 0..<200 { sink &+= try once() }  // warm up
    // Rounds of about half a second each; the median round is the figure (the machine is shared,
    // so a single long run mixes in whatever else runs), the best shows what a quiet machine gives.
    var rates: [Double] = []
    var iterations = 0
    let start = now()
    for _ in 0..<7 {
        var roundIterations = 0
        let roundStart = now()
        var roundElapsed = 0.0
        while roundElapsed < 0.5 {
            for _ in 0..<100 { sink &+= try once() }
            roundIterations += 100
            roundElapsed = now() - roundStart
        }
        iterations += roundIterations
        rates.append(Double(roundIterations) / roundElapsed)
    }
    let elapsed = now() - start
    rates.sort()
    let rate = rates[rates.count / 2]
    print("in-library define+write+argv: \(iterations) domains in \(String(format: "%.2f", elapsed)) s, 7 rounds")
    print("rate (median round): \(Int(rate)) domains/s, \(String(format: "%.1f", 1e6 / rate)) us/domain "
        + "(goal >= 10000/s: \(rate >= 10000 ? "met" : "NOT met"))")
    print("rounds: slowest \(Int(rates[0]))/s, fastest \(Int(rates[rates.count - 1]))/s")
    // Where the time goes: the median of 5 rounds of 1000 each.
    func measure(_ label: String, _ body: () throws -> Int) rethrows {
        var perCall: [Double] = []
        for _ in 0..<5 {
            let n = 1000
            let t0 = now()
            for _ in 0..<n { sink &+= try body() }
            perCall.append((now() - t0) / Double(n) * 1e6)
        }
        perCall.sort()
        print("  \(label): \(String(format: "%.1f", perCall[perCall.count / 2])) us")
    }
    let defined = try DomainParser.define(xml: xml)
    try measure("libxml2 parse to tree") { try XMLDocumentParser.parse(xml).children.count }
    try measure("parse to Domain") { try DomainParser.parse(xml: xml).devices.serials.count }
    try measure("define (parse+defaults+validate)") { try DomainParser.define(xml: xml).devices.serials.count }
    measure("write XML") { DomainFormatter.format(defined).utf8.count }
    try measure("build argv") { try QEMUCommandLineBuilder.libvirtPretend(for: defined).build(defined).arguments.count }
    if sink == 42 { print("") }
} catch {
    print("virtkit-bench: \(error)")
    exit(1)
}
