import ArgumentParser
import VirtKitAPI
import VirtKitClient

/// The `virtkit` root command: virsh's verbs as subcommands.
public struct VirtKitCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "virtkit",
        abstract: "Run QEMU guests from libvirt domain XML, with better host<->guest plumbing.",
        discussion: """
            Offline verbs (domxml-to-native, domxml-normalize, validate) work without a daemon. The \
            others talk to virtkitd, chosen by -c URI or VIRTKIT_DEFAULT_URI (virtkit:///system, \
            virtkit:///session, virtkit+unix:///path); a session daemon is started when none runs.
            """,
        subcommands: [
            Define.self, Undefine.self, List.self, Start.self, Shutdown.self, Destroy.self, Reboot.self,
            Suspend.self, Resume.self, Autostart.self, DumpXML.self, DomState.self, DomInfo.self,
            Monitor.self, QEMUMonitorCommand.self, MonitorPorts.self,
            Console.self, Channel.self, Log.self, QEMUAgentCommand.self, GuestAgentVerb.self,
            AttachDevice.self, DetachDevice.self, DomIfList.self, DomIfAddr.self, DomIfSetLink.self,
            DomXMLToNative.self, DomXMLNormalize.self, Validate.self,
        ] + NetworkVerbs.all
    )

    public init() {}
}

extension VirtKitCommand {
    /// Parse `arguments` (the process's when nil) and run the chosen verb.
    public static func main(_ arguments: [String]?) async {
        do {
            var command = try parseAsRoot(connectionAfterVerb(arguments ?? Array(CommandLine.arguments.dropFirst())))
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

extension VirtKitCommand {
    /// virsh takes `-c URI` before the verb (`virsh -c URI list`); the verbs declare it, so it is
    /// moved behind the verb.
    static func connectionAfterVerb(_ arguments: [String]) -> [String] {
        DaemonAddress.connectionAfterVerb(arguments)
    }
}
