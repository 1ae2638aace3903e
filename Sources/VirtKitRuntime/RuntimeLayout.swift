import Foundation
import SystemPackage
import VirtKitModel

/// Where a daemon keeps its files. Two modes as libvirt has them, plus explicit directories so
/// several daemons can run side by side (the tests do).
///
/// | what | system | session |
/// |---|---|---|
/// | configuration (`monitor.conf`) | /etc/virtkit | $XDG_CONFIG_HOME/virtkit |
/// | definitions, accelerator probe | /var/lib/virtkit | $XDG_DATA_HOME/virtkit |
/// | API socket, guest run directories, status files | /run/virtkit | $XDG_RUNTIME_DIR/virtkit |
/// | QEMU logs | /var/log/virtkit/qemu | $XDG_STATE_HOME/virtkit/log |
public struct RuntimeLayout: Sendable, Equatable {
    public enum Mode: String, Sendable { case system, session }

    public var mode: Mode
    public var configDirectory: FilePath
    public var stateDirectory: FilePath
    public var runDirectory: FilePath
    public var logDirectory: FilePath
    /// The daemon's API socket.
    public var socketPath: FilePath

    public init(mode: Mode, configDirectory: FilePath, stateDirectory: FilePath, runDirectory: FilePath,
                logDirectory: FilePath, socketPath: FilePath) {
        self.mode = mode
        self.configDirectory = configDirectory
        self.stateDirectory = stateDirectory
        self.runDirectory = runDirectory
        self.logDirectory = logDirectory
        self.socketPath = socketPath
    }

    public static let system = RuntimeLayout(
        mode: .system, configDirectory: "/etc/virtkit", stateDirectory: "/var/lib/virtkit",
        runDirectory: FilePath(RunLocation.systemDirectory), logDirectory: "/var/log/virtkit/qemu",
        socketPath: FilePath(RunLocation.systemDirectory).appending(RunLocation.socketName))

    /// The session layout of the current user, from the XDG variables (with their defaults).
    public static func session(environment: [String: String] = ProcessInfo.processInfo.environment) -> RuntimeLayout {
        let home = environment["HOME"].map { FilePath($0) } ?? FilePath("/tmp")
        func xdg(_ name: String, _ fallback: String) -> FilePath {
            if let value = environment[name], value.hasPrefix("/") { return FilePath(value) }
            return home.appending(fallback)
        }
        let run = FilePath(RunLocation.sessionDirectory(environment: environment))
        return RuntimeLayout(
            mode: .session,
            configDirectory: xdg("XDG_CONFIG_HOME", ".config").appending("virtkit"),
            stateDirectory: xdg("XDG_DATA_HOME", ".local/share").appending("virtkit"),
            runDirectory: run,
            logDirectory: xdg("XDG_STATE_HOME", ".local/state").appending("virtkit/log"),
            socketPath: run.appending(RunLocation.socketName))
    }

    /// Saved definitions: one normalised domain XML a domain.
    public var definitionsDirectory: FilePath { stateDirectory.appending("domains") }
    /// Status files of running guests (libvirt's status XML idea), one per guest.
    public var statusDirectory: FilePath { runDirectory.appending("status") }
    /// Per-guest run directories: `g/<id>-<first 20 characters of the name>` (libvirt 9.7+'s scheme).
    public var guestsDirectory: FilePath { runDirectory.appending("g") }

    /// `by-name/NAME` links to the run directories of running guests.
    public var byNameDirectory: FilePath { runDirectory.appending("by-name") }

    public func definitionPath(_ name: String) -> FilePath { definitionsDirectory.appending(name + ".xml") }
    /// One empty file per domain marked to start with the host (libvirt keeps a link there).
    public var autostartDirectory: FilePath { stateDirectory.appending("autostart") }
    public func autostartPath(_ name: String) -> FilePath { autostartDirectory.appending(name) }
    public func statusPath(_ name: String) -> FilePath { statusDirectory.appending(name + ".json") }
    /// The record of a start in progress (``StartIntent``), beside the status.
    func startIntentPath(_ name: String) -> FilePath { statusDirectory.appending(name + ".start") }
    public func logPath(_ name: String) -> FilePath { logDirectory.appending(name + ".log") }

    /// The run directory of guest `name` running with id `id`.
    public func guestDirectory(id: Int, name: String) -> FilePath {
        guestsDirectory.appending("\(id)-" + String(name.prefix(20)))
    }
}
