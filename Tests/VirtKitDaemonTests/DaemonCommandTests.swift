import Testing
import VirtKitDaemon

/// virtkitd's own options that need no daemon running.
@Suite struct DaemonCommandTests {
    @Test(arguments: ["0", "100", "2000", "100000"])
    func threadSlicesTheKernelTakes(value: String) throws {
        _ = try DaemonCommand.parse(["--thread-slice-us", value])
    }

    @Test(arguments: ["1", "99", "100001", "-5"])
    func threadSlicesRefusedWithTheRange(value: String) {
        let error = #expect(throws: (any Error).self) { _ = try DaemonCommand.parse(["--thread-slice-us", value]) }
        let message = error.map { DaemonCommand.message(for: $0) } ?? ""
        if value != "-5" {
            #expect(message.contains("--thread-slice-us must be 0 (the kernel's default) or 100 to 100000: '\(value)'"), "\(message)")
        }
    }

    @Test func noSliceAskedForIsTheKernelDefault() throws {
        let command = try DaemonCommand.parse(["--thread-slice-us", "0"])
        #expect(command.requestThreadSlice() == .kernelDefault)
        #expect(ThreadSliceOutcome.kernelDefault.description == "kernel default")
    }
}
