import Logging
import ServiceLifecycle
import SystemPackage
import VirtKitHost
import VirtKitRuntime
#if canImport(Glibc)
import Glibc
#endif

/// Starts the domains marked for autostart on the first daemon start after the host booted,
/// while the API already serves. The host's boot is told as libvirt tells it: a marker in the
/// run directory, which is a tmpfs that a boot empties; a daemon restart finds the marker and
/// starts nothing.
struct AutostartService: Service {
    let hypervisor: Hypervisor
    let marker: FilePath
    let settings: HostSettings
    let logger: Logger

    /// Creates the marker; true when it was not there (the first start since the host booted).
    static func claimFirstStart(_ marker: FilePath) -> Bool {
        let fd = open(marker.string, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return false }
        close(fd)
        return true
    }

    func run() async throws {
        guard Self.claimFirstStart(marker) else {
            logger.info("autostart: not the first start since the host booted (\(marker.string) exists); starting nothing")
            return
        }
        // The networks first (as libvirt's network driver starts before its QEMU driver): the
        // guests plug into them.
        _ = await hypervisor.networks.startAutostarted()
        _ = await hypervisor.startMarkedDomains(settings)
    }
}
