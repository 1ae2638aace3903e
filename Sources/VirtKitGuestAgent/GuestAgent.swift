/// The QEMU guest agent's protocol (qemu-ga, over the guest's `org.qemu.guest_agent.0`
/// virtio-serial port): a client, its errors and typed replies.
///
/// The wire is QMP's JSON (commands `{"execute": ..., "arguments": ...}`, replies
/// `{"return": ...}` or `{"error": {"class": ..., "desc": ...}}`, one per line) without QMP's
/// greeting, ids or events. Replies come back in order, so a reply to a command whose caller
/// gave up may still arrive and be taken for the next command's. The agent's answer to that is
/// `guest-sync-delimited`: the client sends a fresh random id and drops everything until the
/// agent's 0xFF sentinel byte followed by `{"return": ID}`; from then on the channel is in sync.
///
/// The pieces, from the wire up:
/// - `GuestAgentFrameDecoder`: splits the byte stream into lines and 0xFF sentinels.
/// - `GuestAgentInboundHandler`: JSON decoding, handing each frame to the connection.
/// - `GuestAgentStateMachine`: the one exchange in flight and the sync state, as a plain value.
/// - `GuestAgentConnection`: that state behind a `Mutex`, timers, and the one-call-at-a-time gate.
/// - ``GuestAgent/Client``: the async public face (sync handshake, libvirt's timeouts, commands).
public enum GuestAgent {}
