import Foundation
import Testing
@testable import VirtKitDaemon

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

/// Where virtkitd serves libvirt's protocol.
@Suite struct LibvirtSocketOptionTests {
    @Test func besideTheAPISocketByDefault() throws {
        let command = try DaemonCommand.parse(["--session", "--run-dir", "/tmp/vk-run"])
        #expect(command.libvirtSocketPath(command.layout)?.string == "/tmp/vk-run/libvirt-sock")
        let none = try DaemonCommand.parse(["--session", "--libvirt-socket", "none"])
        #expect(none.libvirtSocketPath(none.layout) == nil)
        let chosen = try DaemonCommand.parse(["--session", "--libvirt-socket", "/tmp/x/lv.sock"])
        #expect(chosen.libvirtSocketPath(chosen.layout)?.string == "/tmp/x/lv.sock")
    }

    @Test func libvirtsOwnPathOnRequest() throws {
        let system = try DaemonCommand.parse(["--system", "--libvirt-default-socket"])
        #expect(system.libvirtSocketPath(system.layout)?.string == "/run/libvirt/libvirt-sock")
        let session = try DaemonCommand.parse(["--session", "--libvirt-default-socket"])
        let runtime = ProcessInfo.processInfo.environment["XDG_RUNTIME_DIR"] ?? "/run/user/\(getuid())"
        #expect(session.libvirtSocketPath(session.layout)?.string == runtime + "/libvirt/libvirt-sock")
    }

    @Test(arguments: [["--libvirt-socket", "relative/sock"], ["--libvirt-socket", "/a", "--libvirt-default-socket"]])
    func refusedWithAReason(arguments: [String]) {
        #expect(throws: (any Error).self) { _ = try DaemonCommand.parse(arguments) }
    }
}
