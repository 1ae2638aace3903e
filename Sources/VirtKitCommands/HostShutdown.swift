#if canImport(Glibc)
import Glibc
#endif
import VirtKitAPI
import VirtKitClient
import VirtKitDomain

/// `virtkit shutdown --all`: every running guest down, as a host going down needs it, with
/// libvirt-guests' choices and more: at most `parallel` at once, one overall deadline instead of
/// a timeout per guest in turn, the reverse of the autostart order (a guest stops before the
/// domain it starts after), and at the deadline either the ladder (`destroy`) or nothing
/// (`leave`).
struct HostShutdown {
    let client: DaemonClient
    let mode: ShutdownRequest.Mode
    let timeout: Double
    /// Guests shut down at once (nil: all).
    let parallel: Int?
    let onTimeout: ShutdownRequest.OnTimeout

    /// The guests that did not go down, with why.
    func run(_ names: [String]) async throws -> [(name: String, reason: String)] {
        let guests = names.map { name in
            OrderPlan.Guest(name: name, settings: Self.settings(of: (try? client.xml(name, inactive: true)) ?? ""))
        }
        var plan = OrderPlan.stopping(guests)
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + .milliseconds(Int64(timeout * 1000))
        var inFlight: [String] = []
        var progress = ProgressLine()
        while true {
            for entry in plan.next(slots: (parallel ?? names.count) - inFlight.count) {
                let left = max(0, Double((deadline - clock.now).components.seconds))
                do {
                    _ = try client.shutdown(entry.name, ShutdownRequest(mode: mode, timeoutSeconds: left, wait: false, onTimeout: onTimeout))
                    print("Domain '\(entry.name)' is being shutdown\n")
                    inFlight.append(entry.name)
                } catch {
                    plan.finished(entry.name, error: error.message)
                }
            }
            fflush(nil)
            for name in inFlight {
                let state = try client.state(name)
                if state.id == nil {
                    plan.finished(name, error: nil)
                } else if onTimeout == .leave, clock.now > deadline, state.state != .inShutdown {
                    plan.finished(name, error: "left running after the \(Int(timeout)) s deadline")
                } else {
                    continue
                }
                inFlight.removeAll { $0 == name }
            }
            if inFlight.isEmpty && plan.isDone { break }
            let left = inFlight + plan.waiting.map(\.name)
            let seconds = Int((clock.now - start).components.seconds)
            progress.show("waiting for \(left.count) of \(names.count) domains (\(left.joined(separator: ", "))) to power off: "
                          + "\(seconds) s (deadline \(Int(timeout)) s)", seconds: seconds)
            try await Task.sleep(for: .milliseconds(200))
        }
        progress.finish()
        return plan.failed
    }

    /// The guest's autostart settings from its definition; the defaults when it has none.
    static func settings(of xml: String) -> VirtKitAutostartSettings {
        (try? DomainParser.parse(xml: xml).virtkitAutostart) ?? VirtKitAutostartSettings()
    }
}
