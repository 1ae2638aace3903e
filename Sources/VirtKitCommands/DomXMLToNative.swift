import ArgumentParser
import VirtKitDomain

/// `virtkit domxml-to-native qemu-argv FILE`: virsh's verb.
struct DomXMLToNative: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "domxml-to-native",
        abstract: "Print the QEMU command line libvirt 9.0 would build for a domain XML file."
    )

    @Argument(help: "The native format: qemu-argv.")
    var format: String

    @Argument(help: "The domain XML file ('-' for standard input).")
    var file: String

    func validate() throws {
        guard format == "qemu-argv" else {
            throw ValidationError("unsupported config type \(format)")
        }
    }

    func run() async throws {
        print("not yet")
    }
}
