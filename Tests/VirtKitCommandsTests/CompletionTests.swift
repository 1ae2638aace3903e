import ArgumentParser
import Testing
@testable import VirtKitCommands

/// The completions and the man page come from the command tree, so every verb is in them.
@Suite("Shell completions from the command tree")
struct CompletionTests {
    @Test(arguments: [CompletionShell.bash, .zsh, .fish])
    func everyVerbIsCompleted(shell: CompletionShell) {
        let script = VirtKitCommand.completionScript(for: shell)
        let verbs = VirtKitCommand.configuration.subcommands.map { $0._commandName }
        #expect(verbs.count > 20)
        for verb in verbs {
            #expect(script.contains(verb), "\(shell): \(verb)")
        }
    }
}
