import VirtKitDaemon

/// The `virtkitd` executable: a thin shell over ``DaemonCommand``.
@main
struct VirtKitDaemonMain {
    static func main() async {
        do {
            var command = try DaemonCommand.parseAsRoot(nil)
            if var daemon = command as? DaemonCommand {
                try await daemon.run()
            } else {
                try command.run()
            }
        } catch {
            DaemonCommand.exit(withError: error)
        }
    }
}
