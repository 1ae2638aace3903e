import Testing
import VirtKitLibvirtRPC

@Suite("libvirt RPC: what a connection does with each packet")
struct RPCConnectionStateTests {
    static func call(_ procedure: Int32, program: UInt32 = RPCProgram.remote, version: UInt32 = 1, serial: UInt32 = 7) -> RPCHeader {
        RPCHeader(program: program, version: version, procedure: procedure, type: .call, serial: serial, status: .ok)
    }

    @Test func authAndFeaturesBeforeOpenEverythingElseAfter() {
        var state = RPCConnectionState()
        #expect(state.receive(Self.call(66)) == .dispatch(.remote(.authList, Self.call(66))))
        #expect(state.receive(Self.call(60)) == .dispatch(.remote(.connectSupportsFeature, Self.call(60))))
        guard case .replyError(let header, let error) = state.receive(Self.call(273)) else {
            Issue.record("a call before open must be refused")
            return
        }
        #expect(header.type == .reply && header.status == .error && header.procedure == 273 && header.serial == 7)
        #expect(error.message == "internal error: hypervisor connection not open")
        #expect(state.receive(Self.call(1)) == .dispatch(.remote(.connectOpen, Self.call(1))))
        state.opened()
        #expect(state.receive(Self.call(273)) == .dispatch(.remote(.connectListAllDomains, Self.call(273))))
        #expect(state.receive(Self.call(1, program: RPCProgram.qemu)) == .dispatch(.qemu(.domainMonitorCommand, Self.call(1, program: RPCProgram.qemu))))
        guard case .replyError(_, let again) = state.receive(Self.call(1)) else {
            Issue.record("a second open must be refused")
            return
        }
        #expect(again.message == "internal error: connection already open")
        state.closed()
        #expect(state.receive(Self.call(3)) == .close(reason: "a packet after CONNECT_CLOSE"))
    }

    @Test func unknownProceduresAndProgramsGetLibvirtdsAnswer() {
        var state = RPCConnectionState()
        state.opened()
        #expect(state.receive(Self.call(9999)) == .replyError(Self.call(9999).reply(.error), .unknownProcedure(9999)))
        #expect(RemoteError.unknownProcedure(9999) == RemoteError(code: 39, domain: 7, message: "unknown procedure: 9999"))
        #expect(state.receive(Self.call(42, program: RPCProgram.qemu)) == .replyError(Self.call(42, program: RPCProgram.qemu).reply(.error), .unknownProcedure(42)))
        guard case .replyError(_, let program) = state.receive(Self.call(1, program: 0x1234)),
              case .replyError(_, let version) = state.receive(Self.call(1, version: 2)) else {
            Issue.record("an unknown program or version must be answered")
            return
        }
        #expect(program.message == "cannot find program 4660 version 1")
        #expect(version.message == "cannot find program 536903814 version 2")
    }

    @Test func keepaliveStreamsAndProtocolViolations() {
        var state = RPCConnectionState()
        let ping = RPCHeader(program: RPCProgram.keepalive, version: 1, procedure: 1, type: .message, serial: 0, status: .ok)
        #expect(state.receive(ping) == .pong)
        var pong = ping
        pong.procedure = 2
        #expect(state.receive(pong) == .ignore)
        let data = RPCHeader(program: RPCProgram.remote, version: 1, procedure: 201, type: .stream, serial: 9, status: .continue)
        guard case .replyError(let header, _) = state.receive(data) else {
            Issue.record("data for no stream must be answered with an error")
            return
        }
        #expect(header.type == .stream && header.status == .error && header.serial == 9)
        state.streamOpened(9)
        #expect(state.receive(data) == .stream(data))
        var finish = data
        finish.status = .ok
        #expect(state.receive(finish) == .stream(finish))
        #expect(state.openStreams.isEmpty, "the client's finish ends the stream")
        var reply = Self.call(3)
        reply.type = .reply
        #expect(state.receive(reply) == .close(reason: "a reply from the client"))
    }
}
