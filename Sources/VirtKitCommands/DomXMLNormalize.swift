import ArgumentParser
import VirtKitDomain
import VirtKitClient

/// `virtkit domxml-normalize FILE`: what `virsh define FILE; virsh dumpxml --inactive` prints.
struct DomXMLNormalize: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "domxml-normalize",
        abstract: "Validate a domain XML file and print it as libvirt writes it back after define."
    )

    @Argument(help: "The domain XML file ('-' for standard input).")
    var file: String

    func run() async throws {
        do {
            let domain = try DomainParser.define(xml: try DomainFileReader.read(file))
            print(DomainFormatter.format(domain), terminator: "")
        } catch {
            DomainFileReader.printError(error)
            throw ExitCode(1)
        }
    }
}

/// `virtkit validate FILE`: check a domain XML file; silent and exit 0 when it is valid.
struct Validate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a domain XML file as define would; print nothing and exit 0 when valid."
    )

    @Argument(help: "The domain XML file ('-' for standard input).")
    var file: String

    func run() async throws {
        do {
            _ = try DomainParser.define(xml: try DomainFileReader.read(file))
        } catch {
            DomainFileReader.printError(error)
            throw ExitCode(1)
        }
    }
}
