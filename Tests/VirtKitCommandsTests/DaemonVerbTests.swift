import ArgumentParser
import Testing
import VirtKitAPI
import VirtKitClient
@testable import VirtKitCommands

/// The daemon verbs parsed in-process: virsh's names, `-c URI` before or after the verb, the
/// list table as virsh lays it out.
@Suite struct DaemonVerbTests {
    @Test func helpListsVirshVerbs() {
        let help = VirtKitCommand.helpMessage()
        for verb in ["define", "undefine", "list", "start", "shutdown", "destroy", "reboot", "suspend", "resume",
                     "dumpxml", "domstate", "dominfo"] {
            #expect(help.contains(verb), "help does not mention \(verb)")
        }
    }

    @Test func connectionBeforeTheVerbMovesBehindIt() throws {
        let arguments = VirtKitCommand.connectionAfterVerb(["-c", "virtkit+unix:///tmp/x.sock", "list", "--all"])
        #expect(arguments == ["list", "-c", "virtkit+unix:///tmp/x.sock", "--all"])
        let command = try VirtKitCommand.parseAsRoot(arguments)
        let list = try #require(command as? List)
        #expect(list.all)
        #expect(list.connection.address == .socket("/tmp/x.sock"))
    }

    @Test func unknownURIIsRefused() {
        #expect(throws: (any Error).self) { _ = try VirtKitCommand.parseAsRoot(["list", "-c", "qemu+ssh://host/system"]) }
    }

    @Test func startAndShutdownOptions() throws {
        let start = try #require(try VirtKitCommand.parseAsRoot(["start", "demo", "--paused"]) as? Start)
        #expect(start.paused && start.domain == "demo")
        let shutdown = try #require(try VirtKitCommand.parseAsRoot(["shutdown", "demo", "--timeout", "5"]) as? Shutdown)
        #expect(shutdown.timeout == 5 && !shutdown.noWait)
        #expect(throws: (any Error).self) { _ = try VirtKitCommand.parseAsRoot(["shutdown", "demo", "--timeout", "-1"]) }
    }

    @Test func listTableLooksLikeVirsh() {
        let table = VerbOutput.domainTable([
            DomainSummary(id: 3, name: "web", uuid: "u", state: .running, reason: .booted),
            DomainSummary(id: nil, name: "database", uuid: "v", state: .shutoff, reason: .unknown),
        ])
        #expect(table == """
             Id   Name       State
            ---------------------------
             3    web        running
             -    database   shut off


            """)
    }

    @Test func uriParsing() {
        #expect(DaemonAddress(uri: "virtkit:///system") == .system)
        #expect(DaemonAddress(uri: "virtkit:///session") == .session)
        #expect(DaemonAddress(uri: "virtkit+unix:///run/v.sock") == .socket("/run/v.sock"))
        #expect(DaemonAddress(uri: "virtkit+unix://relative") == nil)
        #expect(DaemonAddress.fromEnvironment(["VIRTKIT_DEFAULT_URI": "virtkit:///system"], uid: 1000) == .system)
        #expect(DaemonAddress.fromEnvironment([:], uid: 1000) == .session)
        #expect(DaemonAddress.fromEnvironment([:], uid: 0) == .system)
        #expect(DaemonAddress.session.socketPath(environment: ["XDG_RUNTIME_DIR": "/run/user/7"]) == "/run/user/7/virtkit/virtkitd.sock")
    }
}
