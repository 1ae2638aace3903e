import Logging
import NIOCore
import SystemPackage
import VirtKitLibvirtRPC
import VirtKitModel
import VirtKitRuntime
import VirtKitXDR

/// What one client connection holds beyond single calls: its lifecycle event callbacks and its
/// open console streams. An actor: the read loop, the event relay and the streams' relays all
/// reach it, one at a time.
actor LibvirtSession {
    let dispatcher: LibvirtDispatcher
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    /// A callback: the event it is for, the uuid of the domain it watches (nil for every domain).
    private struct Callback {
        var eventID: Int32
        var uuid: [UInt8]?
    }

    private var callbacks: [Int32: Callback] = [:]
    private var nextCallbackID: Int32 = 1
    private var eventRelay: Task<Void, Never>?
    /// Open streams by the serial of the call that opened them.
    private var streams: [UInt32: (input: AsyncStream<[UInt8]>.Continuation, relay: Task<Void, Never>)] = [:]
    /// Streams opened whose OPEN reply is not written yet.
    private var pending: [UInt32: ConsoleStream] = [:]

    init(dispatcher: LibvirtDispatcher, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) {
        self.dispatcher = dispatcher
        self.outbound = outbound
    }

    /// The events VirtKit raises: VIR_DOMAIN_EVENT_ID_LIFECYCLE, _REBOOT, _AGENT_LIFECYCLE.
    static let lifecycleEventID: Int32 = 0
    static let rebootEventID: Int32 = 1
    static let agentLifecycleEventID: Int32 = 18

    /// CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY: a callback ID for one of those events.
    func register(_ args: inout XDRReader) async throws -> [UInt8] {
        let eventID = try args.read(Int32.self)
        let domain = try args.readOptional { reader throws(XDRError) in try reader.readDomain() }
        guard [Self.lifecycleEventID, Self.rebootEventID, Self.agentLifecycleEventID].contains(eventID) else {
            throw RemoteError(code: RemoteError.Number.noSupport, domain: RemoteError.Source.qemu,
                              message: "this function is not supported by the connection driver: event ID \(eventID)")
        }
        if let domain { _ = try await dispatcher.resolve(domain) }
        let id = nextCallbackID
        nextCallbackID += 1
        callbacks[id] = Callback(eventID: eventID, uuid: domain?.uuid)
        if eventRelay == nil {
            let events = await dispatcher.hypervisor.events()
            // Unstructured: it lives as long as the connection's callbacks, which no call's scope covers.
            eventRelay = Task { [weak self] in
                for await event in events { await self?.deliver(event) }
            }
        }
        return LibvirtDispatcher.reply { $0.write(id) }
    }

    /// CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY.
    func deregister(_ args: inout XDRReader) throws -> [UInt8] {
        let id = try args.read(Int32.self)
        guard callbacks.removeValue(forKey: id) != nil else {
            throw RemoteError(code: RemoteError.Number.invalidArg, domain: RemoteError.Source.qemu,
                              message: "invalid argument: callback ID \(id) not registered")
        }
        return []
    }

    /// The event as the messages of the callbacks that want it: DOMAIN_EVENT_CALLBACK_LIFECYCLE
    /// (318) {id, dom, event, detail}, _REBOOT (319) {id, dom}, _AGENT_LIFECYCLE (348) {id, dom,
    /// state (1 connected, 2 disconnected), reason (2: the channel)}.
    private func deliver(_ event: DomainEvent) async {
        let domain = LibvirtDispatcher.wire(event.domain)
        let (eventID, procedure, fields): (Int32, Int32, [Int32]) = switch event.kind {
        case .rebooted: (Self.rebootEventID, 319, [])
        case .agent(let connected): (Self.agentLifecycleEventID, 348, [connected ? 1 : 2, 2])
        default: (Self.lifecycleEventID, 318, Self.lifecycle(event.kind).map { [$0.0, $0.1] } ?? [])
        }
        for (id, callback) in callbacks.sorted(by: { $0.key < $1.key })
        where callback.eventID == eventID && (callback.uuid == nil || callback.uuid == domain.uuid) {
            let header = RPCHeader(program: RPCProgram.remote, version: RPCProgram.version, procedure: procedure,
                                   type: .message, serial: 0, status: .ok)
            let payload = LibvirtDispatcher.reply { writer in
                writer.write(id)
                writer.write(domain)
                for field in fields { writer.write(field) }
            }
            try? await outbound.write(ByteBuffer(bytes: RPCPacket(header: header, payload: payload).bytes))
        }
    }

    /// virDomainEventType and its detail for a lifecycle event; nil for the other kinds.
    static func lifecycle(_ kind: DomainEvent.Kind) -> (Int32, Int32)? {
        switch kind {
        case .defined(let updated): (0, updated ? 1 : 0)
        case .undefined: (1, 0)
        case .started: (2, 0)
        case .suspended: (3, 0)
        case .resumed: (4, 0)
        case .stopped(let reason):
            switch reason {
            case .destroyed: (5, 1)
            case .crashed: (5, 2)
            case .failed: (5, 5)
            default: (5, 0)
            }
        case .rebooted, .agent: nil
        }
    }

    /// DOMAIN_OPEN_CONSOLE {dom, dev_name?, flags} or DOMAIN_OPEN_CHANNEL {dom, name?, flags}:
    /// the stream opens once this answers OK.
    func openStream(_ header: RPCHeader, channel: Bool, _ args: inout XDRReader) async throws -> [UInt8] {
        let summary = try await dispatcher.resolve(try args.readDomain())
        let device = try args.readOptionalRemoteString(what: "device name")
        let flags = try args.read(UInt32.self)
        let socket: FilePath
        if channel {
            // VIR_DOMAIN_CHANNEL_FORCE (1): a channel's pen is taken by force as a console's is.
            try RemoteError.checkFlags(flags, allowed: 1, "virDomainOpenChannel")
            guard let device else {
                throw RemoteError(code: RemoteError.Number.argumentUnsupported, domain: RemoteError.Source.qemu,
                                  message: "argument unsupported: a channel must be named")
            }
            socket = try await dispatcher.hypervisor.channelSocket(name: summary.name, target: device, mode: flags & 1 != 0 ? .force : .readwrite)
        } else {
            // FORCE (1) takes the pen; SAFE (2) is what VirtKit's broker always is.
            try RemoteError.checkFlags(flags, allowed: 3, "virDomainOpenConsole")
            socket = try await dispatcher.hypervisor.consoleSocket(name: summary.name, device: device,
                                                                   mode: flags & 1 != 0 ? .force : .readwrite)
        }
        pending[header.serial] = try await ConsoleStream.open(socket)
        return []
    }

    /// Starts relaying the stream that `header`'s call opened, once its reply is on the wire.
    func startStream(_ header: RPCHeader) {
        guard let stream = pending.removeValue(forKey: header.serial) else { return }
        let (input, continuation) = AsyncStream.makeStream(of: [UInt8].self, bufferingPolicy: .bufferingNewest(256))
        let outbound = self.outbound
        // Unstructured: the stream outlives the call that opened it; finish, abort or the
        // connection's end cancels it.
        let relay = Task<Void, Never> {
            do { try await stream.run(header, to: outbound, input: input) } catch {}
        }
        streams[header.serial] = (continuation, relay)
    }

    /// A STREAM packet from the client for an open stream: data, finish (OK) or abort (ERROR).
    /// Finish and abort are confirmed with an empty STREAM/OK, as libvirtd does.
    func streamPacket(_ header: RPCHeader, _ payload: [UInt8]) async {
        guard let stream = streams[header.serial] else { return }
        switch header.status {
        case .continue:
            stream.input.yield(payload)
        case .ok, .error:
            stream.input.finish()
            stream.relay.cancel()
            streams[header.serial] = nil
            try? await outbound.write(ByteBuffer(bytes: RPCPacket(header: header.reply(.ok, type: .stream)).bytes))
        }
    }

    /// The connection ended: stop relaying events and streams.
    func end() {
        eventRelay?.cancel()
        eventRelay = nil
        for stream in streams.values {
            stream.input.finish()
            stream.relay.cancel()
        }
        streams = [:]
        for stream in pending.values { stream.close() }
        pending = [:]
    }
}
