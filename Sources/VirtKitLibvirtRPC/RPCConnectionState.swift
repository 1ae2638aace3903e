/// One client connection's protocol state, as a plain value that says what to do with each
/// packet (swift-nio's state machine shape): answer keepalive, refuse what the protocol does
/// not allow, or hand a call to the dispatcher. No I/O; the server acts on the ``Action``.
public struct RPCConnectionState: Sendable {
    /// What to do with a packet.
    public enum Action: Equatable, Sendable {
        /// Run the call; answer with its result or its error.
        case dispatch(RPCCall)
        /// Answer with this error (a reply to the packet's call).
        case replyError(RPCHeader, RemoteError)
        /// Data, finish or abort for the open stream of this serial.
        case stream(RPCHeader)
        /// Answer a keepalive PING.
        case pong
        /// Nothing to answer (a PONG, an event from a client).
        case ignore
        /// The client broke the protocol beyond an answer: close the connection.
        case close(reason: String)
    }

    /// What a call addresses.
    public enum RPCCall: Equatable, Sendable {
        case remote(RemoteProcedure, RPCHeader)
        case qemu(QEMUProcedure, RPCHeader)
    }

    public private(set) var isOpen = false
    /// Streams open, by the serial of the call that opened them.
    public private(set) var openStreams: Set<UInt32> = []
    public private(set) var isClosed = false

    public init() {}

    public mutating func receive(_ header: RPCHeader) -> Action {
        if isClosed { return .close(reason: "a packet after CONNECT_CLOSE") }
        switch header.type {
        case .message:
            guard header.program == RPCProgram.keepalive else { return .ignore }
            return header.procedure == KeepaliveProcedure.ping.rawValue ? .pong : .ignore
        case .call:
            return call(header)
        case .stream where openStreams.contains(header.serial):
            // The client's finish (OK) or abort (ERROR) ends the stream; the server confirms it.
            if header.status != .continue { openStreams.remove(header.serial) }
            return .stream(header)
        case .stream, .streamHole:
            return .replyError(header.reply(.error, type: .stream),
                               RemoteError(code: RemoteError.Number.rpc, domain: RemoteError.Source.rpc,
                                           message: "no stream is open with serial \(header.serial)"))
        case .callWithFDs:
            return .replyError(header.reply(.error), RemoteError(code: RemoteError.Number.invalidArg, domain: RemoteError.Source.rpc,
                                                                 message: "invalid argument: descriptor passing is not supported"))
        case .reply, .replyWithFDs:
            return .close(reason: "a reply from the client")
        }
    }

    private func call(_ header: RPCHeader) -> Action {
        guard header.status == .ok else { return .close(reason: "a call with status \(header.status)") }
        guard header.version == RPCProgram.version, header.program == RPCProgram.remote || header.program == RPCProgram.qemu else {
            return .replyError(header.reply(.error),
                               RemoteError(code: RemoteError.Number.rpc, domain: RemoteError.Source.rpc,
                                           message: "cannot find program \(header.program) version \(header.version)"))
        }
        if header.program == RPCProgram.qemu {
            guard let procedure = QEMUProcedure(rawValue: header.procedure) else {
                return .replyError(header.reply(.error), .unknownProcedure(header.procedure))
            }
            return isOpen ? .dispatch(.qemu(procedure, header)) : .replyError(header.reply(.error), Self.notOpen)
        }
        guard let procedure = RemoteProcedure(rawValue: header.procedure) else {
            return .replyError(header.reply(.error), .unknownProcedure(header.procedure))
        }
        if procedure == .connectOpen, isOpen {
            return .replyError(header.reply(.error), RemoteError(code: RemoteError.Number.internalError, domain: RemoteError.Source.rpc,
                                                                 message: "internal error: connection already open"))
        }
        guard isOpen || procedure.allowedBeforeOpen else { return .replyError(header.reply(.error), Self.notOpen) }
        return .dispatch(.remote(procedure, header))
    }

    /// CONNECT_OPEN succeeded.
    public mutating func opened() { isOpen = true }

    /// The call with this serial opened a stream (its reply went out).
    public mutating func streamOpened(_ serial: UInt32) { openStreams.insert(serial) }

    /// CONNECT_CLOSE was answered: nothing more is accepted.
    public mutating func closed() {
        isOpen = false
        isClosed = true
    }

    static let notOpen = RemoteError(code: RemoteError.Number.internalError, domain: RemoteError.Source.rpc,
                                     message: "internal error: hypervisor connection not open")
}
