@_exported import VirtKitJSON

/// QEMU's JSON machine protocol (QMP): a client, its values, events and errors.
///
/// QMP is a stream of JSON objects, one per line. QEMU opens with a greeting
/// (`{"QMP": {"version": ..., "capabilities": [...]}}`), the client leaves negotiation
/// mode with `qmp_capabilities`, and from then on sends `{"execute": ..., "arguments": ...,
/// "id": ...}` objects. QEMU answers each with `{"return": ...}` or `{"error": {"class": ...,
/// "desc": ...}}` carrying the same `id`, and interleaves asynchronous `{"event": ...}` objects.
///
/// The pieces, from the wire up:
/// - `QMPLineDecoder` and `QMPMessageEncoder`: newline framing in channel handlers.
/// - `QMPMessageHandler`: JSON decoding, handing each message to the connection.
/// - `QMPStateMachine`: the protocol state as a plain value that returns actions.
/// - `QMPConnection`: the state behind a `Mutex`, shared by the event loop and callers.
/// - ``QMP/Client``: the async public face; NIO does not appear in the public API.
public enum QMP {
    /// QMP's values are JSON values (VirtKitJSON), shared with the guest agent's protocol.
    public typealias Value = JSONValue
}
