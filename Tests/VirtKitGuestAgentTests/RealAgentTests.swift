import Foundation
import Testing
import VirtKitTestSupport
import VirtKitGuestAgent
import VirtKitQMP

/// Debian's qemu-ga 7.2 in the bundled test guest, booted once under TCG.
@Suite(.tags(.qemu)) struct RealAgentTests {
    /// What `body` threw; nil when it succeeded.
    /// CLOCK_REALTIME - CLOCK_MONOTONIC, in ns: it moves only when the wall clock is stepped.
    static func wallClockOffset() -> Int64 {
        var real = timespec(), monotonic = timespec()
        clock_gettime(CLOCK_REALTIME, &real)
        clock_gettime(CLOCK_MONOTONIC, &monotonic)
        return (Int64(real.tv_sec) - Int64(monotonic.tv_sec)) * 1_000_000_000 + Int64(real.tv_nsec) - Int64(monotonic.tv_nsec)
    }

    static func failure<T>(_ body: () async throws(GuestAgent.Error) -> T) async -> GuestAgent.Error? {
        do {
            _ = try await body()
            return nil
        } catch {
            return error
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func realAgentAnswersThenShutsTheGuestDown() async throws {
        // The guest keeps time from its boot on QEMU's clock; a step of the host's wall clock
        // afterwards (this machine's clock has been stepped by minutes mid-run) is not the agent's.
        let offsetAtBoot = Self.wallClockOffset()
        try await TestGuest.with { guest in
            let client = try await GuestAgent.Client.connect(unixPath: guest.agentPath)

            // qemu-ga may still be starting when the console says ready: a timed-out sync is
            // retried (and proves a resync after a timeout against the real agent).
            var firstPing = await Self.failure { () async throws(GuestAgent.Error) in try await client.ping() }
            for _ in 0..<12 where firstPing == .timedOut(command: "guest-ping") {
                firstPing = await Self.failure { () async throws(GuestAgent.Error) in try await client.ping() }
            }
            #expect(firstPing == nil, "qemu-ga never answered guest-ping")
            try await client.ping(timeout: .seconds(10))

            let info = try await client.info()
            #expect(info.version.hasPrefix("7.2."))
            #expect(info.supports("guest-ping") && info.supports("guest-sync-delimited"))
            #expect(info.commands.first { $0.name == "guest-shutdown" }?.successResponse == false)

            let os = try await client.osInfo()
            #expect(os.id == "virtkit-guest")
            #expect(os.prettyName == "VirtKit test guest (Debian kernel, busybox)")
            #expect(os.machine == "x86_64")
            #expect(os.kernelRelease?.isEmpty == false)

            let guestTime = try await client.time()
            let stepped = Self.wallClockOffset() - offsetAtBoot
            let hostTime = Int64(Date().timeIntervalSince1970 * 1e9) - stepped
            #expect(abs(guestTime - hostTime) < 300 * 1_000_000_000, "guest clock \(guestTime) vs host \(hostTime) (host clock stepped \(stepped) ns)")

            #expect(try await client.hostname() == "virtkit-guest")

            let interfaces = try await client.networkInterfaces()
            let loopback = try #require(interfaces.first { $0.name == "lo" })
            #expect(loopback.addresses.contains(.init(family: .ipv4, address: "127.0.0.1", prefix: 8)))

            #expect(try await client.executeRaw(json: #"{"execute":"guest-ping"}"#) == #"{"return":{}}"#)

            let unknown = await Self.failure { () async throws(GuestAgent.Error) in
                try await client.execute("guest-no-such-command")
            }
            if case .commandFailed(let command, let errorClass, let description) = unknown {
                #expect(command == "guest-no-such-command")
                #expect(errorClass == "CommandNotFound")
                #expect(description.contains("guest-no-such-command"))
            } else {
                Issue.record("an unknown command gave \(String(describing: unknown))")
            }
            // Still in sync after an error reply.
            try await client.ping()

            let clock = ContinuousClock()
            let start = clock.now
            try await client.shutdown()
            let status = try await guest.waitForExit(timeout: .seconds(30))
            #expect(status != nil, "QEMU still runs 30 s after guest-shutdown")
            #expect(clock.now - start < .seconds(30))
            // The console's last bytes may still be on their way to the collector when QEMU
            // has exited (seen once in a loaded CI run): waited for, not read at once.
            #expect(try await guest.serial.waitFor("virtkit-guest: poweroff", timeout: .seconds(10)))
            await client.close()
        }
    }
}
