import VirtKitFront
#if canImport(Glibc)
import Glibc
#endif

/// The `virtkit` executable: a small static front. The verbs run in loops and on a start's path
/// (`qemu-monitor-command`, `define`, `start`) are served here, in a process that starts in well
/// under a millisecond; everything else is handed to the full command tree, `virtkit-cli`, by exec.
@main
struct VirtKitFrontMain {
    static func main() {
        FrontVerbs.askForShortSlice()
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let status = FrontVerbs.serve(arguments) { exit(status) }
        FullCommandTree.exec(program: CommandLine.arguments.first ?? "virtkit", arguments)
    }
}
