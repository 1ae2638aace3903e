import Foundation
import VirtKitDaemon

/// The `virtkitd` executable: a thin shell over ``DaemonCommand``.
@main
struct VirtKitDaemonMain {
    static func main() async {
        // The descriptor holder (see DescriptorHolder): nothing but its loop, no runtime.
        if let status = DaemonCommand.serveDescriptorHolderIfAsked(CommandLine.arguments) { exit(status) }
        do {
            var command = try DaemonCommand.parseAsRoot(nil)
            if let daemon = command as? DaemonCommand {
                // On the main thread before any other thread exists, so that every thread inherits it.
                let slice = daemon.requestThreadSlice()
                try await daemon.run(threadSlice: slice)
            } else {
                try command.run()
            }
        } catch {
            DaemonCommand.exit(withError: error)
        }
    }
}
