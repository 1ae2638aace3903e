import Dispatch
import VirtKitCommands
#if canImport(Glibc)
import Glibc
#endif

/// `virtkit-cli`: the full command tree (every verb, with the argument parser's checks, help and
/// messages). Users run `virtkit`, which serves a few verbs itself and execs this for the rest.
@main
struct VirtKitCLIMain {
    static func main() {
        Task {
            await VirtKitCommand.main(nil)
            exit(0)
        }
        dispatchMain()
    }
}
