extension MonitorServer {
    /// One command as the command channel takes it (an HMP line, or a QMP object on one line),
    /// answered as that channel answers it, without a socket: the same session rules and the
    /// same policy as any client of the channel (a `quit` is the policy's recorded destroy).
    public func command(_ line: String) async -> String {
        var session = MonitorSession(channel: .command, maxLineLength: hub.configuration.maxLineLength)
        var output: [UInt8] = []
        var actions = session.received(Array(line.utf8))
        while !actions.isEmpty {
            let action = actions.removeFirst()
            switch action {
            case .write(let bytes): output += bytes
            case .run(let request): actions += session.finished(await hub.runner.run(request, on: .command))
            case .subscribeEvents, .cancelIdleTimer, .close: break
            }
        }
        return String(decoding: output, as: UTF8.self)
    }
}
