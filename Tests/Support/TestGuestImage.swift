import Foundation

/// The bundled test guest (Scripts/build-test-guest.sh), built at most once per test run: a
/// no-op when it is up to date.
public enum TestGuestImage {
    /// Where it is: `VIRTKIT_GUEST_DIR`, else the script's default.
    public static let directory = ProcessInfo.processInfo.environment["VIRTKIT_GUEST_DIR"] ?? "/var/cache/virtkit/guest"

    /// Success, or what the build script said when it failed.
    public static let built: Result<Void, BuildFailure> = {
        let script = TestFiles.packageRoot.appendingPathComponent("Scripts/build-test-guest.sh").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script, directory]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { return .failure(BuildFailure(description: "cannot run \(script): \(error)")) }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return process.terminationStatus == 0 ? .success(()) : .failure(BuildFailure(description: "test guest build failed: \(output)"))
    }()

    public struct BuildFailure: Error, CustomStringConvertible {
        public var description: String
    }
}
