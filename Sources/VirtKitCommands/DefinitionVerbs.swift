import ArgumentParser
import VirtKitAPI
import VirtKitClient

/// `virtkit define FILE`.
struct Define: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "define", abstract: "Define (but don't start) a domain from an XML file.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The domain XML file ('-' for standard input).") var file: String

    func run() async throws {
        try await runVerb {
            let xml = try DomainFileReader.read(file)
            let name = try await connection.client().define(xml: xml)
            print(VerbOutput.defined(name: name, file: file), terminator: "")
        }
    }
}

/// `virtkit undefine NAME`.
struct Undefine: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "undefine", abstract: "Undefine a domain (a running one becomes transient).")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The domain name.") var domain: String

    func run() async throws {
        try await runVerb {
            try await connection.client().undefine(domain)
            print("Domain '\(domain)' has been undefined\n")
        }
    }
}

/// `virtkit dumpxml NAME [--inactive]`.
struct DumpXML: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dumpxml", abstract: "Print a domain's XML.")
    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "The definition, not the running guest's live XML.") var inactive = false
    @Argument(help: "The domain name.") var domain: String

    func run() async throws {
        try await runVerb {
            print(try await connection.client().xml(domain, inactive: inactive), terminator: "")
        }
    }
}
