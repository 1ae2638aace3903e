import Foundation
import SystemPackage
import Testing
import VirtKitTestSupport
import VirtKitHost

/// The `virtkit` front and `virtkit-cli`: the verbs the front does not serve reach the full tree
/// with their arguments and exit status, and a front without `virtkit-cli` beside it says so.
@Suite("virtkit front: hand-off to virtkit-cli", .tags(.qemu))
struct FrontHandOffTests {
    func run(_ executable: String, _ arguments: [String]) async throws -> (Int32, String, String) {
        try await DaemonProcessTests.run(executable, arguments)
    }

    @Test func verbsTheFrontDoesNotServeRunInTheFullTree() async throws {
        let front = try DaemonProcessTests.binary("virtkit")
        // An offline verb, its output and its failure status, through the hand-off.
        let (status, stdout, _) = try await run(front, ["--help"])
        #expect(status == 0)
        #expect(stdout.contains("qemu-monitor-command") && stdout.contains("domxml-to-native"))
        let (badStatus, _, badError) = try await run(front, ["validate", "/nonexistent/domain.xml"])
        #expect(badStatus != 0)
        #expect(badError.contains("/nonexistent/domain.xml"))
        // A form of a served verb the front leaves alone (help) reaches the parser.
        let (startHelp, startOut, _) = try await run(front, ["start", "--help"])
        #expect(startHelp == 0)
        #expect(startOut.contains("--paused"))
    }

    @Test func aFrontWithoutTheFullTreeSaysSo() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vkfront-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let lonely = directory.appendingPathComponent("virtkit").path
        // Written close-on-exec and renamed into place: a copy whose write descriptor a process
        // spawned by another test inherited could not be run ("Text file busy", seen in CI).
        let front = try #require(AtomicFile.read(FilePath(try DaemonProcessTests.binary("virtkit"))))
        try AtomicFile.write(front, to: FilePath(lonely), permissions: [.ownerReadWriteExecute])
        var attempt = 0
        var result = try? await run(lonely, ["list"])
        while result == nil, attempt < 20 {  // a spawn between another test's fork and exec
            attempt += 1
            try await Task.sleep(for: .milliseconds(50))
            result = try? await run(lonely, ["list"])
        }
        let (status, _, stderr) = try #require(result)
        #expect(status == 1)
        #expect(stderr.contains("cannot run \(directory.path)/virtkit-cli"), "\(stderr)")
    }

    @Test func defineThroughTheFrontNamesTheDomainFromTheAnswer() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        let (daemon, _) = try await DaemonProcessTests.startDaemon(harness)
        defer { daemon.send(signal: SIGKILL) }
        // A name that must be percent-encoded in the answer's Content-Location.
        let name = "front tëst 名%"
        let file = harness.root.appending("front.xml").string
        try AtomicFile.write(harness.domainXML(name: name), to: FilePath(file))
        let defined = try await DaemonProcessTests.cli(harness, ["define", file])
        #expect(defined.0 == 0 && defined.1 == "Domain '\(name)' defined from \(file)\n\n", "\(defined)")
        let undefined = try await DaemonProcessTests.cli(harness, ["undefine", name])
        #expect(undefined.0 == 0, "\(undefined)")
    }
}
