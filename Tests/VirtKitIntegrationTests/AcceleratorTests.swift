import Foundation
import SystemPackage
import Testing
import VirtKitTestSupport
import VirtKitAPI
import VirtKitHost
@testable import VirtKitRuntime

/// KVM is trusted only after the test guest really booted under it; a type='kvm' domain runs
/// with whatever the probe decided, and boots either way.
@Suite("Runtime: accelerator probe", .tags(.qemu), .serialized)
struct AcceleratorTests {
    @Test("the probe boots the test guest under KVM with a deadline, caches the answer, and kvm domains follow it")
    func probeDecidesAndCaches() async throws {
        let harness = try GuestHarness()
        defer { harness.cleanUp() }
        try AtomicFile.makeDirectory(harness.layout.stateDirectory)
        let probe = harness.probe(deadline: .seconds(10))
        let decided = await probe.result()
        let kvmUsable = access("/dev/kvm", R_OK | W_OK) == 0
        if !kvmUsable { #expect(!decided.kvmWorks) }
        #expect(decided.detail.contains("KVM") || decided.detail.contains("/dev/kvm"), "\(decided.detail)")
        print("KVM probe on this host: \(decided.kvmWorks ? "usable" : "not usable"): \(decided.detail)")
        #expect(AtomicFile.read(harness.layout.stateDirectory.appending("kvm-probe.json")) != nil)

        // A second probe (a new daemon) reads the cache instead of booting again.
        let clock = ContinuousClock()
        let begin = clock.now
        let cached = await harness.probe(deadline: .seconds(10)).result()
        #expect(cached == decided)
        #expect(clock.now - begin < .seconds(5), "read from the cache, not a 10 s probe boot")

        // A type='kvm' domain runs with the decided accelerator and boots to the ready marker.
        let hypervisor = try await harness.hypervisor(probe: probe)
        _ = try await hypervisor.define(xml: harness.domainXML(name: "kvmish", type: "kvm"))
        _ = try await hypervisor.start(name: "kvmish", paused: true)
        let serial = try SocketReader(connectingTo: harness.serialPath("kvmish"))
        _ = try await hypervisor.resume(name: "kvmish")
        let info = try await hypervisor.info(name: "kvmish")
        #expect(info.accelerator == (decided.kvmWorks ? "kvm" : "tcg"))
        #expect(await serial.waitFor("VIRTKIT-GUEST-READY", timeout: 60), "serial: \(serial.text)")
        _ = try await hypervisor.destroy(name: "kvmish")
        #expect(harness.leftovers().isEmpty)
    }
}
