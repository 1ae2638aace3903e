/// Limits of libvirt 9.0's protocol (virnetprotocol.x, remote_protocol.x).
public enum RPCLimits {
    /// VIR_NET_MESSAGE_MAX: a whole packet, length word included.
    public static let messageMax = 33_554_432
    /// VIR_NET_MESSAGE_STRING_MAX and REMOTE_STRING_MAX.
    public static let stringMax = 4_194_304
    /// REMOTE_DOMAIN_LIST_MAX.
    public static let domainListMax = 16_384
    /// VIR_UUID_BUFLEN.
    public static let uuidLength = 16
}
