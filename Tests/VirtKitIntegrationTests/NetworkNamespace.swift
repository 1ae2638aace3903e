import Foundation
import SystemPackage
import VirtKitHost
#if canImport(Glibc)
import Glibc
#endif

/// A network namespace of a test's own (`ip netns add`): the daemon under test runs in it, so
/// its bridges, taps, nftables tables and dnsmasq never touch the host's networking.
final class NetworkNamespace {
    let name: String

    init() async throws {
        name = "vkt\(getpid() % 100_000)-\(UInt16.random(in: 0...UInt16.max))"
        try await run(["ip", "netns", "add", name])
        try await run(["ip", "-n", name, "link", "set", "lo", "up"])
    }

    /// Runs `arguments` in the namespace (`ip netns exec`); its output, or throws with it.
    @discardableResult
    func exec(_ arguments: [String]) async throws -> String {
        try await run(["ip", "netns", "exec", name] + arguments)
    }

    /// `ip -br link` in the namespace: one line a link.
    func links() async throws -> [String] {
        try await run(["ip", "-n", name, "-br", "link"]).split(separator: "\n").map { String($0.split(separator: " ").first ?? "") }
    }

    /// The namespace's whole nftables ruleset.
    func ruleset() async throws -> String {
        try await exec(["nft", "list", "ruleset"])
    }

    @discardableResult
    func run(_ arguments: [String]) async throws -> String {
        let (status, out, err) = try await DaemonProcessTests.run("/usr/sbin/ip", Array(arguments.dropFirst()))
        guard status == 0 else { throw HarnessError("\(arguments.joined(separator: " ")): \(status) \(out)\(err)") }
        return out
    }

    /// Removes the namespace (what is left in it goes with it).
    func remove() {
        guard let null = try? FileDescriptor.open("/dev/null", .writeOnly) else { return }
        defer { try? null.close() }
        guard let pid = try? ProcessSpawner.spawn(executable: "/usr/sbin/ip", arguments: ["ip", "netns", "del", name],
                                                  environment: [:], output: null, placements: []) else { return }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }
}
