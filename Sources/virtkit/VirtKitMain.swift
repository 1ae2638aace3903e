import Dispatch
import VirtKitCommands
#if canImport(Glibc)
import Glibc
#endif

/// The `virtkit` executable: a thin shell over ``VirtKitCommand``.
///
/// A synchronous entry: the one-shot monitor command (the verb scripts run in loops) is served
/// without starting the concurrency runtime; everything else runs the async command tree.
@main
struct VirtKitMain {
    static func main() {
        if let status = VirtKitCommand.fastPath(Array(CommandLine.arguments.dropFirst())) { exit(status) }
        Task {
            await VirtKitCommand.main(nil)
            exit(0)
        }
        dispatchMain()
    }
}
