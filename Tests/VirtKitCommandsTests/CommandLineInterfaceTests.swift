import ArgumentParser
import Testing
@testable import VirtKitCommands

/// The CLI parsed in-process: verbs, arguments and help.
@Suite struct CommandLineInterfaceTests {
    @Test func helpListsTheOfflineVerbs() {
        let help = VirtKitCommand.helpMessage()
        for verb in ["domxml-to-native", "domxml-normalize", "validate"] {
            #expect(help.contains(verb), "help does not mention \(verb)")
        }
    }

    @Test func domxmlToNativeTakesVirshArguments() throws {
        let command = try VirtKitCommand.parseAsRoot(["domxml-to-native", "qemu-argv", "guest.xml", "--lines"])
        let native = try #require(command as? DomXMLToNative)
        #expect(native.file == "guest.xml")
        #expect(native.lines)
        #expect(!native.start)
    }

    @Test func unknownNativeFormatIsRefused() {
        #expect(throws: (any Error).self) {
            _ = try VirtKitCommand.parseAsRoot(["domxml-to-native", "xen-xm", "guest.xml"])
        }
    }

    @Test func shellQuotingQuotesOnlyWhatNeedsIt() {
        #expect(ShellQuote.quote("-chardev") == "-chardev")
        #expect(ShellQuote.quote("{\"a\":1}") == "'{\"a\":1}'")
        #expect(ShellQuote.quote("it's") == "'it'\\''s'")
    }
}
