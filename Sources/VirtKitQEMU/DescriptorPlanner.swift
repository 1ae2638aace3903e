import VirtKitDomain

/// Decides which descriptors a real start pre-opens, in libvirt's order (serials, parallels,
/// channels, consoles, then the monitor; a device's source before its log), numbering them from
/// the first free descriptor and numbering `-add-fd` sets from 0.
struct DescriptorPlanner {
    /// The descriptors of one chardev.
    struct ChardevDescriptors {
        var source: PlannedDescriptor?
        var log: PlannedDescriptor?
    }

    private(set) var planned: [PlannedDescriptor] = []
    private(set) var byAlias: [String: ChardevDescriptors] = [:]
    private(set) var monitor: PlannedDescriptor?
    private var nextNumber: Int32
    private var nextSet = 0

    init(firstFD: Int32) {
        nextNumber = firstFD
    }

    private mutating func add(_ purpose: PlannedDescriptor.Purpose, label: String, fdset: Bool) -> PlannedDescriptor {
        let descriptor = PlannedDescriptor(number: nextNumber, purpose: purpose, label: label,
                                           fdset: fdset ? nextSet : nil)
        nextNumber += 1
        if fdset { nextSet += 1 }
        planned.append(descriptor)
        return descriptor
    }

    /// Plan one chardev's descriptors; `unixPath` is its socket path after defaults.
    mutating func plan(alias: String, chardev: Chardev, unixPath: String?) {
        var entry = ChardevDescriptors()
        switch chardev.source {
        case .file(let path?, let append):
            entry.source = add(.writableFile(path: path, append: append == true), label: alias + "-source", fdset: true)
        case .unix(let unix) where unix.mode == .bind:
            if let unixPath {
                entry.source = add(.listeningUnixSocket(path: unixPath), label: alias + "-source", fdset: false)
            }
        default:
            break
        }
        if let log = chardev.log {
            entry.log = add(.writableFile(path: log.file, append: log.append == true), label: alias + "-log", fdset: true)
        }
        if entry.source != nil || entry.log != nil { byAlias[alias] = entry }
    }

    /// The tap descriptors, by interface index.
    private(set) var taps: [Int: PlannedDescriptor] = [:]

    /// One tap for each interface that has one (libvirt's `tapfd-netN`).
    mutating func planTaps(_ interfaces: [NetworkInterface]) {
        for (i, nic) in interfaces.enumerated() where nic.usesTap {
            taps[i] = add(.tap(interface: i), label: "tapfd-net\(i)", fdset: false)
        }
    }

    mutating func planMonitor(path: String) {
        monitor = add(.listeningUnixSocket(path: path), label: "monitor-source", fdset: false)
    }
}
