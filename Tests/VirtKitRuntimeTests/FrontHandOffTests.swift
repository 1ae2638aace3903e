import Foundation
import Testing
import VirtKitTestSupport

/// The `virtkit` front and `virtkit-cli`: the verbs the front does not serve reach the full tree
/// with their arguments and exit status, and a front without `virtkit-cli` beside it says so.
@Suite("virtkit front: hand-off to virtkit-cli")
struct FrontHandOffTests {
    /// Runs `executable` with `arguments` on a thread of its own; (status, stdout, stderr).
    func run(_ executable: String, _ arguments: [String]) async throws -> (Int32, String, String) {
        try await OffPool.run {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            let out = Pipe()
            let err = Pipe()
            process.standardOutput = out
            process.standardError = err
            process.standardInput = FileHandle.nullDevice
            try process.run()
            let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus, stdout, stderr)
        }
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
        try FileManager.default.copyItem(atPath: try DaemonProcessTests.binary("virtkit"), toPath: lonely)
        let (status, _, stderr) = try await run(lonely, ["list"])
        #expect(status == 1)
        #expect(stderr.contains("cannot run \(directory.path)/virtkit-cli"), "\(stderr)")
    }
}
