import Foundation
import Testing
import VirtKitDomain
import VirtKitQEMU
import VirtKitTestSupport

/// The differential suite: every case goes through real libvirt 9.0 (the embedded QEMU driver,
/// driven by Scripts/libvirt-oracle.py, no daemon) and through VirtKit, now, on this machine.
/// The chardev arguments and the normalised XML must be identical, and what libvirt refuses VirtKit
/// refuses with the same message. This needs Debian's libvirt and QEMU (see .ci/run); it fails,
/// never skips, without them.
@Suite struct LibvirtDifferentialTests {
    /// libvirt's answers for every case (file name -> text), computed once for the whole suite.
    /// libvirt's answers, computed once on a thread of its own: the tests that wait for them
    /// must not hold the concurrency pool (other suites' brokers and fakes run on it) for the
    /// seconds libvirt takes.
    static let oracle = Task { try await OffPool.run { runOracle() } }

    struct OracleError: Error, CustomStringConvertible {
        var description: String
    }

    static func runOracle() -> Result<[String: String], OracleError> {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("virtkit-oracle-\(getpid())")
        try? FileManager.default.removeItem(at: out)
        // The answers are read into memory and the directory goes: a test run leaves nothing in /tmp.
        defer { try? FileManager.default.removeItem(at: out) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        let script = TestFiles.packageRoot.appendingPathComponent("Scripts/libvirt-oracle.py").path
        process.arguments = [script, out.path] + TestFiles.caseNames.map {
            TestFiles.casesDirectory.appendingPathComponent($0 + ".xml").path
        }
        let errors = Pipe()
        process.standardError = errors
        do {
            try process.run()
        } catch {
            return .failure(OracleError(description: "cannot run \(script): \(error)"))
        }
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            return .failure(OracleError(description: "libvirt oracle failed (\(process.terminationStatus)): \(stderr)"))
        }
        var answers: [String: String] = [:]
        for file in (try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? [] {
            answers[file] = try? String(contentsOf: out.appendingPathComponent(file), encoding: .utf8)
        }
        return .success(answers)
    }

    static func answer(_ name: String, _ ext: String) async throws -> String? {
        try await oracle.value.get()[name + "." + ext]
    }

    @Test func libvirtAnsweredEveryCase() async throws {
        #expect(TestFiles.caseNames.count >= 60)
        for name in TestFiles.caseNames {
            let (dump, dumpError) = (try await Self.answer(name, "dump.xml"), try await Self.answer(name, "dump.err"))
            let (args, argsError) = (try await Self.answer(name, "args"), try await Self.answer(name, "args.err"))
            #expect(dump != nil || dumpError != nil, "\(name)")
            #expect(args != nil || argsError != nil, "\(name)")
        }
    }

    @Test(arguments: TestFiles.caseNames)
    func defineAgreesWithLibvirt(_ name: String) async throws {
        let xml = TestFiles.caseXML(name)
        let result = Result { () throws(DomainError) -> String in DomainFormatter.format(try DomainParser.define(xml: xml)) }
        if let refusal = try await Self.answer(name, "dump.err") {
            guard case .failure(let error) = result else {
                Issue.record("libvirt refused \(name) (\(refusal)) but VirtKit accepted it")
                return
            }
            #expect(error.message == refusal.trimmingCharacters(in: .newlines))
        } else {
            let expected = try #require(try await Self.answer(name, "dump.xml"))
            #expect(try result.get() == expected)
        }
    }

    @Test(arguments: TestFiles.caseNames)
    func commandLineAgreesWithLibvirt(_ name: String) async throws {
        let xml = TestFiles.caseXML(name)
        let built = Result { () throws -> [String] in
            let domain = try DomainParser.define(xml: xml)
            return try QEMUCommandLineBuilder.libvirtPretend(for: domain).build(domain).arguments
        }
        if let refusal = try await Self.answer(name, "args.err") {
            guard case .failure(let error) = built else {
                Issue.record("libvirt refused \(name) (\(refusal)) but VirtKit built a command line")
                return
            }
            let message = (error as? DomainError)?.message ?? (error as? QEMUCommandLineError)?.message ?? "\(error)"
            #expect(message == refusal.trimmingCharacters(in: .newlines))
        } else {
            let expected = try #require(try await Self.answer(name, "args")).split(separator: "\n").map(String.init)
            let argv = try built.get()
            #expect(TestFiles.chardevArguments(argv) == TestFiles.chardevArguments(expected))
            #expect(!TestFiles.chardevArguments(argv).isEmpty)
        }
    }

    /// What virt-install writes: the whole command line is libvirt's, argument for argument.
    /// libvirt's domxml-to-native turns every interface into a tap on fd 5, so a user-mode
    /// netdev is compared as that.
    @Test(arguments: TestFiles.caseNames.filter { $0.hasPrefix("virt-install-") || $0.hasPrefix("clock-timers") || $0.hasPrefix("clock-rtc-wall") })
    func wholeCommandLineAgreesWithLibvirt(_ name: String) async throws {
        let domain = try DomainParser.define(xml: TestFiles.caseXML(name))
        let argv = try QEMUCommandLineBuilder.libvirtPretend(for: domain).build(domain).arguments.map {
            $0.hasPrefix("{\"type\":\"user\",") ? $0.replacingOccurrences(of: "\"type\":\"user\"", with: "\"type\":\"tap\",\"fd\":\"5\"") : $0
        }
        let expected = try #require(try await Self.answer(name, "args")).split(separator: "\n").map(String.init)
        #expect(argv == expected)
    }
}
