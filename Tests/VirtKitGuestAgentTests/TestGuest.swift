import Foundation
import NIOCore
import NIOPosix
import Synchronization
import VirtKitTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The bundled test guest (Scripts/build-test-guest.sh) booted by plain QEMU under TCG, with
/// its serial console and guest agent chardev on UNIX sockets in a short /tmp directory.
struct TestGuest {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static let guestDirectory = TestGuestImage.directory

    let qemu: QEMUProcess
    let serial: SerialConsole
    var process: Process { qemu.process }
    var directory: String { qemu.directory }
    var agentPath: String { directory + "/ga.sock" }

    /// Boots the guest, waits for `VIRTKIT-GUEST-READY`, runs `body`, and always kills QEMU and
    /// removes the directory.
    static func with(_ body: (TestGuest) async throws -> Void) async throws {
        try TestGuestImage.built.get()
        try await QEMUProcess.with(prefix: "vkga", arguments: { directory in
            [
                "-machine", "q35", "-accel", "tcg", "-m", "128M", "-nodefaults", "-no-user-config",
                "-display", "none", "-kernel", guestDirectory + "/vmlinux", "-initrd", guestDirectory + "/initrd.img",
                "-append", "console=ttyS0 mitigations=off cryptomgr.notests no_timer_check",
                "-serial", "unix:\(directory)/ser.sock,server=on,wait=off",
                "-device", "virtio-serial-pci",
                "-chardev", "socket,id=ga,path=\(directory)/ga.sock,server=on,wait=off",
                "-device", "virtserialport,chardev=ga,name=org.qemu.guest_agent.0",
                "-qmp", "unix:\(directory)/qmp.sock,server=on,wait=off",
            ]
        }) { qemu in
            let serial = try await SerialConsole.connect(path: qemu.directory + "/ser.sock", while: { qemu.isRunning })
            defer { serial.close() }
            guard try await serial.waitFor("VIRTKIT-GUEST-READY", timeout: .seconds(120)) else {
                throw Failure(description: "guest not ready; console: \(serial.text.suffix(2000)) QEMU: \(qemu.log)")
            }
            try await body(TestGuest(qemu: qemu, serial: serial))
        }
    }

    /// Waits up to `timeout` for QEMU to exit; its exit status, nil when it still runs.
    func waitForExit(timeout: Duration) async throws -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.isRunning ? nil : process.terminationStatus
    }
}

/// The guest's serial console: everything it printed, collected on an event loop.
final class SerialConsole: Sendable {
    private let channel: Channel
    private let collector: Collector

    private init(channel: Channel, collector: Collector) {
        self.channel = channel
        self.collector = collector
    }

    /// Connects to QEMU's serial socket at `path`, retrying while QEMU starts listening.
    static func connect(path: String, while running: () -> Bool) async throws -> SerialConsole {
        let collector = Collector()
        var lastError: any Error = TestGuest.Failure(description: "QEMU exited before its serial socket appeared")
        for _ in 0..<500 where running() {
            do {
                let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) }
                    }
                    .connect(unixDomainSocketPath: path).get()
                return SerialConsole(channel: channel, collector: collector)
            } catch {
                lastError = error
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        throw lastError
    }

    var text: String { collector.bytes.withLock { String(decoding: $0, as: UTF8.self) } }

    /// Whether `marker` shows up within `timeout`.
    func waitFor(_ marker: String, timeout: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if text.contains(marker) { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return text.contains(marker)
    }

    func close() {
        channel.close(promise: nil)
    }

    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let bytes = Mutex<[UInt8]>([])

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            bytes.withLock { $0.append(contentsOf: buffer.readableBytesView) }
        }
    }
}
