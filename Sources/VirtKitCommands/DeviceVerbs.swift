import ArgumentParser
import VirtKitAPI
import VirtKitClient

/// `virtkit attach-device NAME FILE` and `detach-device NAME FILE`: virsh's verbs for a
/// running domain's chardev devices (virtio channels and consoles, pci-serial, usb-serial).
/// Only the live domain changes (virsh's `--live`); the definition stays as it is.
struct AttachDevice: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attach-device", abstract: "Hot-plug a <channel>, <console> or <serial> into a running domain.")
    @OptionGroup var device: DeviceVerbOptions

    func run() async throws { try await device.run(attach: true) }
}

struct DetachDevice: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detach-device", abstract: "Hot-unplug a <channel>, <console> or <serial> from a running domain.")
    @OptionGroup var device: DeviceVerbOptions

    func run() async throws { try await device.run(attach: false) }
}

struct DeviceVerbOptions: ParsableArguments {
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The domain name.") var domain: String
    @Argument(help: "The device XML file ('-' for standard input).") var file: String
    @Flag(help: "Change the running domain (the only mode; accepted for virsh's sake).") var live = false

    func run(attach: Bool) async throws {
        try await runVerb {
            let xml = try DomainFileReader.read(file)
            try await connection.client().device(domain, xml: xml, attach: attach)
            print(attach ? "Device attached successfully\n" : "Device detached successfully\n")
        }
    }
}
