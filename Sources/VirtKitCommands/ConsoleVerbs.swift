import ArgumentParser
import FoundationEssentials
import SystemPackage
import VirtKitAPI
import VirtKitHost
#if canImport(Glibc)
import Glibc
import VirtKitClient
#endif

/// `virtkit console NAME [DEVNAME]`: a guest console through virtkitd's broker, which any
/// number of clients share (virsh console takes a lock instead). One read-write client holds
/// the pen; `--force` takes it, `--shared` types alongside, `--readonly` only watches.
struct Console: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console", abstract: "Connect to a guest console (Ctrl-] leaves); late joiners see the scrollback.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The domain name.") var domain: String
    @Argument(help: "The device: an alias (serial0, console0, channel1) or a channel name; default the first console.")
    var devname: String?
    @Flag(help: "Only watch: never type into the guest.") var readonly = false
    @Flag(help: "Take the pen from the client that holds it (it stays attached, read-only).") var force = false
    @Flag(help: "Type alongside whoever holds the pen.") var shared = false

    func validate() throws {
        if [readonly, force, shared].filter({ $0 }).count > 1 {
            throw ValidationError("--readonly, --force and --shared exclude each other")
        }
    }

    func run() async throws {
        let mode: ConsoleMode = readonly ? .readonly : force ? .force : shared ? .shared : .readwrite
        try await runVerb {
            let socket = try await ConsoleSocketFinder(connection: connection, domain: domain)
                .connect(device: devname, mode: mode, channel: false)
            defer { try? socket.close() }
            let terminal = TerminalMode.raw()
            defer { terminal?.restore() }
            if terminal != nil {
                DomainFileReader.printLine(toStderr: "Connected to domain '\(domain)'\r\nEscape character is ^] (Ctrl + ])\r")
            }
            let received = ByteRelay.run(socket: socket.rawValue, escape: terminal != nil ? ByteRelay.escapeKey : nil,
                                         sendInput: mode != .readonly)
            if terminal != nil { DomainFileReader.printLine(toStderr: "\r") }
            // Refused (the pen is held, too many clients): the message was shown; the status says so.
            if received.isRefusal { throw ExitCode(1) }
        }
    }
}

/// `virtkit channel NAME TARGET-NAME`: a virtio channel as a byte stream on standard input and
/// output (libvirt's virDomainOpenChannel), through the channel's broker.
struct Channel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "channel", abstract: "Open a guest's virtio channel as a byte stream on stdin/stdout.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The domain name.") var domain: String
    @Argument(help: "The channel's target name (org.qemu.guest_agent.0) or its alias.") var target: String
    @Flag(help: "Take the channel from the client that holds it.") var force = false

    func run() async throws {
        try await runVerb {
            let socket = try await ConsoleSocketFinder(connection: connection, domain: domain)
                .connect(device: target, mode: force ? .force : .readwrite, channel: true)
            defer { try? socket.close() }
            if ByteRelay.run(socket: socket.rawValue, escape: nil, sendInput: true).isRefusal { throw ExitCode(1) }
        }
    }
}

/// `virtkit log NAME [DEVNAME]`: a chardev's log (every byte since the guest started, rotated
/// as virtlogd does), or the domain's QEMU log without DEVNAME.
struct Log: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log", abstract: "Print a console's log, or the domain's QEMU log.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The domain name.") var domain: String
    @Argument(help: "The device (serial0, console0, a channel name); none: the QEMU log.") var devname: String?
    @Flag(help: "Also the rotated files, oldest first.") var all = false
    @Flag(help: "Print the recent output (the scrollback) and follow the console live; Ctrl-C ends.")
    var follow = false

    func run() async throws {
        try await runVerb {
            if follow {
                let socket = try await ConsoleSocketFinder(connection: connection, domain: domain)
                    .connect(device: devname, mode: .readonly, channel: false)
                defer { try? socket.close() }
                ByteRelay.run(socket: socket.rawValue, escape: nil, sendInput: false)
                return
            }
            let bytes = try await connection.client().log(domain, device: devname, all: all)
            try ByteRelay.writeAll(1, bytes[...])
        }
    }
}

/// Finds a console's client socket: straight through the `by-name` link when the daemon's run
/// directory is reachable, else through the API (which also gives libvirt's errors).
struct ConsoleSocketFinder {
    let connection: ConnectionOptions
    let domain: String

    func connect(device: String?, mode: ConsoleMode, channel: Bool) async throws -> FileDescriptor {
        if let fd = ByName.connect(address: connection.address, domain: domain,
                                   ["console", (device ?? "default") + mode.socketSuffix]) {
            return fd
        }
        let chardevs = try await connection.client().chardevs(domain)
        let found = chardevs.first { entry in
            guard let device else { return entry.isDefaultConsole }
            return entry.names.contains(device) && (!channel || entry.role == "channel" || entry.role == "guestfwd")
        }
        guard let found, let path = found.sockets[mode.rawValue] else {
            let what = channel ? "channel" : "character device"
            throw APIError(.internalError, device.map { "internal error: cannot find \(what) \($0)" }
                ?? "operation failed: domain '\(domain)' has no console virtkitd serves")
        }
        do {
            return try UnixSocket.connect(to: FilePath(path))
        } catch {
            throw APIError(.operationFailed, "operation failed: \(error)")
        }
    }
}
