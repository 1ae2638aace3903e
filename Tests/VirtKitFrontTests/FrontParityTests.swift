import ArgumentParser
import Testing
@testable import VirtKitCommands
@testable import VirtKitFront

/// The front parses its three verbs by hand, and the full command tree declares them again (for
/// help, checks and the forms the front leaves to it). Every command line the front serves must
/// mean the same to the full tree, so that whichever executable reads it does the same thing.
@Suite struct FrontParityTests {
    static let connect = "virtkit+unix:///tmp/v.sock"

    @Test(arguments: [
        ["define", "vm.xml"], ["define", "-c", connect, "vm.xml"], ["define", "vm.xml", "--connect", connect],
    ])
    func define(_ line: [String]) throws {
        let front = try #require(FrontArguments(line.dropFirst(), flags: []))
        let full = try #require(try VirtKitCommand.parseAsRoot(line) as? Define)
        #expect(full.file == front.positional.first)
        #expect(full.connection.connect == front.connect)
    }

    @Test(arguments: [
        ["start", "vm"], ["start", "--paused", "vm"], ["start", "vm", "-c", connect, "--paused"], ["start", "a b"],
    ])
    func start(_ line: [String]) throws {
        let front = try #require(FrontArguments(line.dropFirst(), flags: ["--paused"]))
        let full = try #require(try VirtKitCommand.parseAsRoot(line) as? Start)
        #expect(full.domain == front.positional.first)
        #expect(full.paused == front.flags.contains("--paused"))
        #expect(full.connection.connect == front.connect)
    }

    @Test(arguments: [
        ["qemu-monitor-command", "vm", "--hmp", "info", "status"],
        ["qemu-monitor-command", "--pretty", "vm", #"{"execute":"query-status"}"#],
        ["qemu-monitor-command", "-c", connect, "vm", "--hmp", "info", "chardev"],
    ])
    func monitorCommand(_ line: [String]) throws {
        let front = try #require(FrontArguments(line.dropFirst(), flags: ["--hmp", "--pretty"]))
        let full = try #require(try VirtKitCommand.parseAsRoot(line) as? QEMUMonitorCommand)
        #expect(full.domain == front.positional.first)
        #expect(full.command == Array(front.positional.dropFirst()))
        #expect(full.hmp == front.flags.contains("--hmp"))
        #expect(full.pretty == front.flags.contains("--pretty"))
        #expect(full.connection.connect == front.connect)
    }

    @Test(arguments: [["list"], ["list", "--all"], ["list", "-c", connect, "--all"]])
    func list(_ line: [String]) throws {
        let front = try #require(FrontArguments(line.dropFirst(), flags: ["--all"]))
        let full = try #require(try VirtKitCommand.parseAsRoot(line) as? List)
        #expect(front.positional.isEmpty)
        #expect(full.all == front.flags.contains("--all"))
        #expect(full.format == .text)
        #expect(full.connection.connect == front.connect)
        // The forms the front leaves to the full tree.
        #expect(FrontArguments(["--format", "json"], flags: ["--all"]) == nil)
    }
}
