import ArgumentParser

/// The `virtkit` root command: virsh's verbs as subcommands.
public struct VirtKitCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "virtkit",
        abstract: "Run QEMU guests from libvirt domain XML, with better host<->guest plumbing.",
        discussion: "Offline verbs work without a daemon; they read and write libvirt's domain XML.",
        subcommands: [DomXMLToNative.self, DomXMLNormalize.self, Validate.self]
    )

    public init() {}
}

extension VirtKitCommand {
    /// Parse `arguments` (the process's when nil) and run the chosen verb.
    public static func main(_ arguments: [String]?) async {
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
