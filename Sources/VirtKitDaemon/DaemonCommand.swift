import ArgumentParser
import Foundation
import Logging
import SystemPackage
import VirtKitHost
import VirtKitRuntime

/// `virtkitd`: the daemon's command line.
public struct DaemonCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "virtkitd",
        abstract: "The VirtKit daemon: runs QEMU guests from libvirt domain XML.",
        discussion: """
            System mode uses /etc/virtkit, /var/lib/virtkit and /run/virtkit (run as root); session \
            mode the XDG directories of the calling user. --socket, --state-dir, --run-dir and \
            --log-dir override single places, so several daemons can run side by side.
            """,
        version: VirtKitVersion.string)

    @Flag(name: .long, help: "System mode (the default for root).") var system = false
    @Flag(name: .long, help: "Session mode (the default for other users).") var session = false
    @Option(name: .long, help: "The API socket.") var socket: String?
    @Option(name: .customLong("state-dir"), help: "Definitions and the KVM probe cache.") var stateDir: String?
    @Option(name: .customLong("run-dir"), help: "Guest run directories and status files.") var runDir: String?
    @Option(name: .customLong("log-dir"), help: "QEMU logs, one per domain.") var logDir: String?
    @Option(name: .customLong("config-dir"), help: "Where monitor.conf is read from.") var configDir: String?
    @Option(name: .customLong("guest-dir"), help: "The test guest used by the KVM probe.") var guestDir: String?
    @Option(name: .customLong("socket-group"),
            help: "Share the API socket and guest sockets with this group (0660 instead of 0600).") var socketGroup: String?
    @Flag(help: "Detach: a session of its own, output to virtkitd.log in the run directory.") var detach = false
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error.") var logLevel: String = "info"
    @Option(name: .customLong("thread-slice-us"),
            help: ArgumentHelp(
                "The kernel time slice virtkitd's threads ask for, in microseconds (0: the kernel's default).",
                discussion: """
                    Linux 6.12+ lets a thread with a short slice preempt a busy one as soon as it wakes, \
                    so virtkitd answers at once while guests keep every CPU busy. QEMU gets the default.
                    """))
    var threadSliceMicroseconds: Int = 100
    @Option(name: .customLong("idle-timeout"),
            help: "Seconds an API client may keep a connection open without sending what it owes (1 to 3600).")
    var idleTimeoutSeconds: Int = 60
    @Option(name: .customLong("connections-per-user"),
            help: "API connections one user other than root may hold at once (1 to 65536).")
    var connectionsPerUser: Int = 256
    @Option(name: .customLong("libvirt-socket"),
            help: ArgumentHelp("Where to serve libvirt's RPC protocol (virsh, python-libvirt), or 'none'.",
                               discussion: "Default: libvirt-sock beside the API socket."))
    var libvirtSocket: String?
    @Flag(name: .customLong("libvirt-default-socket"),
          help: "Serve libvirt's protocol on libvirt's own socket path (qemu:///system or qemu:///session), unless a libvirtd holds it.")
    var libvirtDefaultSocket = false

    public init() {}

    public func validate() throws {
        if system && session { throw ValidationError("--system and --session exclude each other") }
        for (name, value) in [("--socket", socket), ("--state-dir", stateDir), ("--run-dir", runDir), ("--log-dir", logDir), ("--config-dir", configDir)] {
            if let value, !value.hasPrefix("/") { throw ValidationError("\(name) must be an absolute path: '\(value)'") }
        }
        if Logger.Level(rawValue: logLevel) == nil { throw ValidationError("unknown --log-level '\(logLevel)'") }
        if threadSliceMicroseconds != 0 && !(100...100_000).contains(threadSliceMicroseconds) {
            throw ValidationError("--thread-slice-us must be 0 (the kernel's default) or 100 to 100000: '\(threadSliceMicroseconds)'")
        }
        if !(1...3600).contains(idleTimeoutSeconds) { throw ValidationError("--idle-timeout must be 1 to 3600: '\(idleTimeoutSeconds)'") }
        if !(1...65536).contains(connectionsPerUser) {
            throw ValidationError("--connections-per-user must be 1 to 65536: '\(connectionsPerUser)'")
        }
        if let libvirtSocket, libvirtSocket != "none", !libvirtSocket.hasPrefix("/") {
            throw ValidationError("--libvirt-socket must be an absolute path or 'none': '\(libvirtSocket)'")
        }
        if libvirtSocket != nil && libvirtDefaultSocket {
            throw ValidationError("--libvirt-socket and --libvirt-default-socket exclude each other")
        }
        if let socketGroup, getgrnam(socketGroup) == nil { throw ValidationError("unknown group '\(socketGroup)' for --socket-group") }
    }

    /// The layout these options select.
    public var layout: RuntimeLayout {
        let systemMode = system || (!session && getuid() == 0 && socket == nil && runDir == nil)
        var layout = systemMode ? RuntimeLayout.system : RuntimeLayout.session()
        if let runDir {
            layout.runDirectory = FilePath(runDir)
            layout.socketPath = FilePath(runDir).appending("virtkitd.sock")
        }
        if let stateDir { layout.stateDirectory = FilePath(stateDir) }
        if let logDir { layout.logDirectory = FilePath(logDir) } else if let stateDir {
            layout.logDirectory = FilePath(stateDir).appending("log")
        }
        if let socket { layout.socketPath = FilePath(socket) }
        if let configDir { layout.configDirectory = FilePath(configDir) } else if let stateDir {
            layout.configDirectory = FilePath(stateDir).appending("etc")
        }
        return layout
    }

    /// Where libvirt's protocol is served in `layout`, or nil for nowhere.
    func libvirtSocketPath(_ layout: RuntimeLayout) -> FilePath? {
        if libvirtSocket == "none" { return nil }
        if let libvirtSocket { return FilePath(libvirtSocket) }
        if libvirtDefaultSocket {
            // libvirt's own: /run/libvirt/libvirt-sock, or $XDG_RUNTIME_DIR/libvirt/libvirt-sock.
            if layout.mode == .system { return FilePath("/run/libvirt/libvirt-sock") }
            let runtime = ProcessInfo.processInfo.environment["XDG_RUNTIME_DIR"] ?? "/run/user/\(getuid())"
            return FilePath(runtime).appending("libvirt/libvirt-sock")
        }
        return layout.socketPath.removingLastComponent().appending("libvirt-sock")
    }

    /// Asks for `--thread-slice-us` for the calling thread, and so for every thread created after
    /// it: call it on the main thread before anything starts threads. Returns what to log.
    public func requestThreadSlice() -> ThreadSliceOutcome {
        guard threadSliceMicroseconds > 0 else { return .kernelDefault }
        let slice = Duration.microseconds(threadSliceMicroseconds)
        do {
            try ThreadSlice.request(slice)
            return .granted(slice)
        } catch {
            return .refused(slice, error)
        }
    }

    public func run() async throws {
        try await run(threadSlice: .kernelDefault)
    }

    public func run(threadSlice: ThreadSliceOutcome) async throws {
        if detach {
            setsid()
            let log = layout.runDirectory.appending("virtkitd.log").string
            try? FileManager.default.createDirectory(atPath: layout.runDirectory.string, withIntermediateDirectories: true,
                                                     attributes: [.posixPermissions: 0o700])
            let fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
            if fd >= 0 {
                dup2(fd, 1)
                dup2(fd, 2)
                close(fd)
            }
        }
        let guest = guestDir ?? ProcessInfo.processInfo.environment["VIRTKIT_GUEST_DIR"] ?? "/var/cache/virtkit/guest"
        let gid = socketGroup.flatMap { getgrnam($0)?.pointee.gr_gid }
        var daemon = Daemon(layout: layout, guestDirectory: FilePath(guest),
                            logLevel: Logger.Level(rawValue: logLevel) ?? .info, socketGroup: gid, threadSlice: threadSlice)
        daemon.idleTimeout = .seconds(idleTimeoutSeconds)
        daemon.connectionsPerUser = connectionsPerUser
        daemon.libvirtSocketPath = libvirtSocketPath(layout)
        try await daemon.run()
    }

    /// `virtkitd --fd-holder PATH`, which the daemon starts itself: the holder's exit status, or
    /// nil for any other command line.
    public static func serveDescriptorHolderIfAsked(_ arguments: [String]) -> Int32? {
        guard arguments.count == 3, arguments[1] == "--fd-holder" else { return nil }
        return DescriptorHolder.serve(at: FilePath(arguments[2]))
    }
}
