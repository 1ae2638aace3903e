/// The programs a libvirt RPC packet may address, with the version each speaks.
public enum RPCProgram {
    /// REMOTE_PROGRAM: the libvirt API.
    public static let remote: UInt32 = 0x2000_8086
    /// QEMU_PROGRAM: qemu-monitor-command, qemu-agent-command.
    public static let qemu: UInt32 = 0x2000_8087
    /// KEEPALIVE_PROGRAM ("keep").
    public static let keepalive: UInt32 = 0x6B65_6570
    /// Every program above is at version 1.
    public static let version: UInt32 = 1
}

/// KEEPALIVE_PROC_*.
public enum KeepaliveProcedure: Int32, Sendable {
    case ping = 1, pong = 2
}

/// QEMU_PROC_*, those VirtKit serves.
public enum QEMUProcedure: Int32, Sendable {
    case domainMonitorCommand = 1
    case domainAgentCommand = 3
}

/// REMOTE_PROC_*, those VirtKit serves (remote_protocol.x); any other number is answered as
/// libvirtd answers an unknown procedure, which clients read as "not supported".
public enum RemoteProcedure: Int32, Sendable, CaseIterable {
    case connectOpen = 1
    case connectClose = 2
    case connectGetType = 3
    case connectGetVersion = 4
    case connectGetMaxVcpus = 5
    case nodeGetInfo = 6
    case connectGetCapabilities = 7
    case domainAttachDevice = 8
    case domainCreate = 9
    case domainCreateXML = 10
    case domainDefineXML = 11
    case domainDestroy = 12
    case domainDetachDevice = 13
    case domainGetXMLDesc = 14
    case domainGetAutostart = 15
    case domainGetInfo = 16
    case domainGetMaxMemory = 17
    case domainGetOSType = 19
    case connectListDefinedDomains = 21
    case domainLookupByID = 22
    case domainLookupByName = 23
    case domainLookupByUUID = 24
    case connectNumOfDefinedDomains = 25
    case domainReboot = 27
    case domainResume = 28
    case domainSetAutostart = 29
    case domainShutdown = 33
    case domainSuspend = 34
    case domainUndefine = 35
    case connectListDomains = 37
    case connectNumOfDomains = 51
    case connectGetHostname = 59
    case connectSupportsFeature = 60
    case connectListDefinedNetworks = 36
    case connectListNetworks = 38
    case networkCreate = 39
    case networkCreateXML = 40
    case networkDefineXML = 41
    case networkDestroy = 42
    case networkGetXMLDesc = 43
    case networkGetAutostart = 44
    case networkGetBridgeName = 45
    case networkLookupByName = 46
    case networkLookupByUUID = 47
    case networkSetAutostart = 48
    case networkUndefine = 49
    case connectNumOfDefinedNetworks = 50
    case connectNumOfNetworks = 52
    case authList = 66
    case nodeGetSecurityModel = 122
    case connectIsSecure = 149
    case domainIsActive = 150
    case domainIsPersistent = 151
    case connectGetLibVersion = 157
    case domainAttachDeviceFlags = 160
    case domainDetachDeviceFlags = 161
    case domainHasManagedSaveImage = 183
    case domainSnapshotNum = 187
    case domainCreateWithFlags = 196
    case domainGetVcpusFlags = 200
    case domainOpenConsole = 201
    case domainIsUpdated = 202
    case networkIsActive = 152
    case networkIsPersistent = 153
    case domainGetState = 212
    case domainUndefineFlags = 231
    case domainDestroyFlags = 234
    case domainReset = 245
    case domainShutdownFlags = 258
    case connectListAllDomains = 273
    case connectListAllNetworks = 283
    case domainOpenChannel = 296
    case connectDomainEventCallbackRegisterAny = 316
    case connectDomainEventCallbackDeregisterAny = 317
    case connectGetDomainCapabilities = 342
    case networkGetDHCPLeases = 341
    case domainDefineXMLFlags = 350
    case connectRegisterCloseCallback = 360
    case connectUnregisterCloseCallback = 361
    case domainGetMessages = 426
    case networkDefineXMLFlags = 432
    case networkCreateXMLFlags = 437

    /// Whether it only reads what the daemon holds (no QEMU, no disk, no waiting): such calls are
    /// answered in the connection's own task, without a task of their own.
    public var isQuickRead: Bool {
        switch self {
        case .connectGetType, .connectGetLibVersion, .connectGetHostname, .connectIsSecure, .connectSupportsFeature,
             .authList, .nodeGetInfo, .nodeGetSecurityModel, .connectListAllDomains, .connectNumOfDomains,
             .connectNumOfDefinedDomains, .connectListDomains, .connectListDefinedDomains, .domainLookupByID,
             .domainLookupByName, .domainLookupByUUID, .domainGetInfo, .domainGetState, .domainGetXMLDesc,
             .domainGetAutostart, .domainIsActive, .domainIsPersistent, .domainIsUpdated, .domainGetOSType,
             .domainGetMaxMemory, .domainGetVcpusFlags, .domainHasManagedSaveImage, .domainSnapshotNum,
             .domainGetMessages, .connectRegisterCloseCallback, .connectUnregisterCloseCallback,
             .connectListAllNetworks, .connectListNetworks, .connectListDefinedNetworks, .connectNumOfNetworks,
             .connectNumOfDefinedNetworks, .networkLookupByName, .networkLookupByUUID, .networkGetXMLDesc,
             .networkGetAutostart, .networkGetBridgeName, .networkIsActive, .networkIsPersistent, .networkGetDHCPLeases:
            true
        default:
            false
        }
    }

    /// Whether a client may call it before CONNECT_OPEN (libvirtd allows these).
    public var allowedBeforeOpen: Bool {
        self == .connectOpen || self == .authList || self == .connectSupportsFeature
    }
}
