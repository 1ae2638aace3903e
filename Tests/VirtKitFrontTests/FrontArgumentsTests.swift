import FoundationEssentials
import Testing
import VirtKitAPI
@testable import VirtKitFront

/// Which command lines the front serves itself, and that what it sends is what the API takes.
@Suite struct FrontArgumentsTests {
    @Test func flagsAnywhereConnectionAndPositionals() throws {
        let arguments = try #require(FrontArguments(["--hmp", "vm", "-c", "virtkit+unix:///tmp/v.sock", "info", "status"],
                                                    flags: ["--hmp"]))
        #expect(arguments.flags == ["--hmp"])
        #expect(arguments.positional == ["vm", "info", "status"])
        #expect(arguments.address == .socket("/tmp/v.sock"))
    }

    @Test func formsTheFrontLeavesToTheFullTree() {
        #expect(FrontArguments(["vm", "--help"], flags: ["--paused"]) == nil)
        #expect(FrontArguments(["--connect=virtkit:///system", "vm"], flags: []) == nil)
        #expect(FrontArguments(["vm", "-c"], flags: []) == nil)
        #expect(FrontArguments(["--", "vm"], flags: []) == nil)
        // An unknown URI: the full parser says what is wrong with it.
        #expect(FrontArguments(["-c", "qemu+ssh://h/system", "vm"], flags: [])?.address == nil)
        #expect(FrontVerbs.serve(["list", "--all"]) == nil)
        #expect(FrontVerbs.serve(["define", "-"]) == nil)
        #expect(FrontVerbs.serve(["start", "a", "b"]) == nil)
    }

    @Test func noDaemonMeansTheFullTreeRuns() {
        // Nothing listens there: nothing is sent, and the full tree (which starts a session
        // daemon, or reports the error in its words) takes over.
        #expect(FrontVerbs.serve(["start", "-c", "virtkit+unix:///nonexistent/virtkitd.sock", "vm"]) == nil)
        #expect(FrontVerbs.serve(["qemu-monitor-command", "-c", "virtkit+unix:///nonexistent/v.sock", "vm", "info"]) == nil)
    }
}
