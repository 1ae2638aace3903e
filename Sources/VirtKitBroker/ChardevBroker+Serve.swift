import NIOCore
import NIOPosix
import SystemPackage

extension ChardevBroker {
    /// Serves one client over a connected socket (a UNIX-socket connection, or an HTTP
    /// connection the daemon upgraded): guest output to the socket, the socket's bytes to
    /// the guest, until either side ends. Returns when the socket is closed.
    ///
    /// Gaps, a lost pen and the close are written into the byte stream as visible lines
    /// (``BrokerOutput/terminalBytes``), e.g. `\r\n[virtkit: 12345 bytes skipped]\r\n`. Input
    /// the pen rules refuse is dropped with one notice line per refused run. A refused attach
    /// (``BrokerError/consoleInUse(console:)`` and the like) writes `virtkit: MESSAGE` and
    /// closes. The session ends when the console closes, the socket fails, or the client
    /// shuts its sending side and ``Configuration/halfCloseLinger`` has passed (a read-only client
    /// keeps receiving after that).
    ///
    /// The broker owns `socket` from this call on.
    public func serve(connectedSocket socket: SystemPackage.FileDescriptor, mode: ClientMode, label: String? = nil) async {
        let link = brokerLink
        do {
            let channel = try await ClientBootstrap(group: link.eventLoop)
                .channelOption(.allowRemoteHalfClosure, value: true)
                .channelOption(.autoRead, value: false)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try Self.serveOnLoop(channel, core: link.core.value, mode: mode, label: label)
                    }
                }
                .withConnectedSocket(socket.rawValue).get()
            try? await channel.closeFuture.get()
        } catch {
            // NIO owns (and has closed) the socket whether or not the bootstrap succeeded.
        }
    }

    /// Sets up a served socket's channel on the broker's loop: attached under the pen rules
    /// with a ``ServedSocketHandler``, or told why not (`virtkit: MESSAGE`) and closed.
    static func serveOnLoop(_ channel: Channel, core: BrokerCore, mode: ClientMode, label: String?) throws {
        guard core.register(served: channel) else { throw BrokerError.stopped(console: core.configuration.name) }
        switch core.attach(socket: channel, mode: mode, label: label) {
        case .success(let id):
            try channel.pipeline.syncOperations.addHandler(ServedSocketHandler(core: core, id: id, mode: mode))
        case .failure(let error):
            core.unregister(served: channel)
            try channel.pipeline.syncOperations.addHandler(RefusalHandler(message: "virtkit: \(error)\r\n"))
        }
    }

    /// Serves one client over any byte transport (an upgraded HTTP connection, a WebSocket):
    /// `input` is what the client typed, `output` sends the client its bytes. Same session
    /// as ``serve(connectedSocket:mode:label:)``, with notices as visible lines; returns when
    /// the console closes, `output` throws, or `input` ends (for a client that may write).
    /// ``stop()`` ends the session through the close; a transport whose `output` can hang
    /// must time out on its own, or the caller cancels the task.
    /// - Throws: the attach's refusal (``BrokerError/consoleInUse(console:)`` and the like)
    ///   before anything is sent; the caller tells the client.
    public func serve<Input: AsyncSequence & Sendable>(
        input: Input, mode: ClientMode, label: String? = nil,
        output: @escaping @Sendable ([UInt8]) async throws -> Void
    ) async throws(BrokerError) where Input.Element == [UInt8] {
        let client = try await attach(mode, label: label)
        await Self.session(client: client, input: input, bytes: { $0 }, linger: configuration.halfCloseLinger,
                           inBand: configuration.inBandNotices, output: output)
        await client.detach()
    }

    /// How one side of a served session ended.
    private enum SessionEnd {
        case consoleClosed
        case outputFailed
        case inputEnded
        case lingerOver
    }

    /// Pumps both ways until the console closes, the socket fails, or a writing client's
    /// input ends.
    private static func session<Input: AsyncSequence & Sendable>(
        client: BrokerClient, input: Input, bytes: @escaping @Sendable (Input.Element) -> [UInt8], linger: Duration, inBand: Bool,
        output: @escaping @Sendable ([UInt8]) async throws -> Void
    ) async {
        await withTaskGroup(of: SessionEnd.self) { group in
            group.addTask {
                for await element in client.output {
                    let bytes: [UInt8]
                    switch (element, inBand) {
                    case (_, true): bytes = element.terminalBytes
                    case (.bytes(let raw), false): bytes = raw
                    // A protocol stream with a hole in it is broken: the client is closed.
                    case (.gap, false): return .outputFailed
                    case (.penLost, false): continue
                    case (.closed, false): return .consoleClosed
                    }
                    do {
                        try await output(bytes)
                    } catch {
                        return .outputFailed
                    }
                    if case .closed = element { return .consoleClosed }
                }
                return .consoleClosed
            }
            group.addTask {
                var refused = false
                do {
                    for try await chunk in input {
                        do {
                            try await client.write(bytes(chunk))
                            refused = false
                        } catch {
                            guard !refused else { continue }
                            refused = true
                            if inBand { try? await output(BrokerOutput.notice("\(error)")) }
                        }
                    }
                } catch {
                    // A read error ends the input like EOF does.
                }
                return .inputEnded
            }
            while let end = await group.next() {
                // An observer that shut its sending side still wants output; a writer that
                // did (`socat`, a piped `virtkit console`) gets the answers to what it sent
                // for the linger period, then the session ends.
                if end == .inputEnded {
                    if client.mode.mayWrite {
                        // A client that will not type again does not keep others from it.
                        await client.releasePen()
                        group.addTask {
                            try? await Task.sleep(for: linger)
                            return .lingerOver
                        }
                    }
                    continue
                }
                break
            }
            group.cancelAll()
        }
    }
}
