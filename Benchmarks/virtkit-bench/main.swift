// virtkit-bench: prints figures, never asserts. Run with `swift run -c release virtkit-bench [FILE]`.
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
    var iterations = 0
    let start = now()
    var elapsed = 0.0
    while elapsed < 3.0 {
        for _ in 0..<100 { sink &+= try once() }
        iterations += 100
        elapsed = now() - start
    }
    let rate = Double(iterations) / elapsed
    print("in-library define+write+argv: \(iterations) domains in \(String(format: "%.2f", elapsed)) s")
    print("rate: \(Int(rate)) domains/s, \(String(format: "%.1f", 1e6 / rate)) us/domain (goal >= 10000/s: \(rate >= 10000 ? "met" : "NOT met"))")
    // Where the time goes.
    func measure(_ label: String, _ body: () throws -> Int) rethrows {
        let n = 3000
        let t0 = now()
        for _ in 0..<n { sink &+= try body() }
        print("  \(label): \(String(format: "%.1f", (now() - t0) / Double(n) * 1e6)) us")
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
