import VirtKitDomain
import VirtKitQEMU
import FuzzReplay

/// One input: a domain definition through everything a define does (parse, defaults,
/// validation), written back, and turned into QEMU's argv. Errors are fine; a trap, a crash or a
/// hang is what the fuzzer looks for.
func fuzzDomain(_ bytes: UnsafeRawBufferPointer) {
    guard let xml = String(validating: bytes, as: UTF8.self) else { return }
    guard let domain = try? DomainParser.define(xml: xml) else { return }
    _ = DomainFormatter.format(domain)
    let paths = QEMUPaths(domainDirectory: "/run/virtkit/g/1-fuzz", channelDirectory: "/run/virtkit/g/1-fuzz")
    _ = try? QEMUCommandLineBuilder(paths: paths, mode: .start(firstFD: 3)).build(domain)
}

@main
struct Fuzz {
    static func main() throws {
        try FuzzReplay.main(fuzzDomain)
    }
}
