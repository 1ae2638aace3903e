import Foundation

/// A second local user for tests of who may connect: made with useradd (tests run as root, as
/// CI does) and kept for later runs, since removing it while a test elsewhere runs as it would
/// only race.
public struct LocalUser: Sendable {
    public let name: String
    public let uid: UInt32

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The user `name` (a system user with no home and no login shell), made if missing, in
    /// `groups` (each made if missing) besides its own.
    public static func ensure(_ name: String, groups: [String] = []) throws -> LocalUser {
        for group in groups where try run(["getent", "group", group]).status != 0 {
            try check(run(["groupadd", "--system", group]), "groupadd \(group)")
        }
        if try run(["id", "-u", name]).status != 0 {
            var arguments = ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin"]
            if !groups.isEmpty { arguments += ["--groups", groups.joined(separator: ",")] }
            try check(run(arguments + [name]), "useradd \(name)")
        } else if !groups.isEmpty {
            try check(run(["usermod", "--append", "--groups", groups.joined(separator: ","), name]), "usermod \(name)")
        }
        let id = try run(["id", "-u", name])
        guard let uid = UInt32(id.output.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw Failure(description: "id -u \(name) said '\(id.output)'")
        }
        return LocalUser(name: name, uid: uid)
    }

    /// The gid of group `name`.
    public static func gid(ofGroup name: String) throws -> UInt32 {
        let entry = try run(["getent", "group", name])
        let fields = entry.output.split(separator: ":")
        guard entry.status == 0, fields.count > 2, let gid = UInt32(fields[2]) else {
            throw Failure(description: "no group '\(name)': \(entry.output)")
        }
        return gid
    }

    /// Runs `arguments` as this user (runuser, no shell) and returns its exit status and output
    /// (standard output and error together).
    public func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try Self.run(["runuser", "-u", name, "--"] + arguments)
    }

    /// Connects to TCP `host`:`port` as this user, sends `send`, and returns what the server
    /// sent until it closed (or 10 s passed: then the text ends with "<still open>").
    public func tcpExchange(host: String, port: Int, send: String = "") throws -> String {
        let script = """
            import socket, sys
            family = socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET
            s = socket.socket(family, socket.SOCK_STREAM)
            s.settimeout(10)
            s.connect((sys.argv[1], int(sys.argv[2])))
            if sys.argv[3]: s.sendall(sys.argv[3].encode())
            received = b''
            try:
                while True:
                    chunk = s.recv(4096)
                    if not chunk: break
                    received += chunk
            except socket.timeout:
                received += b'<still open>'
            sys.stdout.write(received.decode('utf-8', 'replace'))
            """
        let result = try run(["python3", "-c", script, host, String(port), send])
        guard result.status == 0 else { throw Failure(description: "python3 as \(name) failed: \(result.output)") }
        return result.output
    }

    private static func check(_ result: (status: Int32, output: String), _ what: String) throws {
        guard result.status == 0 else { throw Failure(description: "\(what) failed (\(result.status)): \(result.output)") }
    }

    private static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
