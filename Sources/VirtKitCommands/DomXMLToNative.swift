import ArgumentParser
import VirtKitDomain
import VirtKitQEMU
import VirtKitClient

/// `virtkit domxml-to-native qemu-argv FILE`: virsh's verb.
struct DomXMLToNative: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "domxml-to-native",
        abstract: "Print the QEMU command line libvirt 9.0 would build for a domain XML file.",
        discussion: """
            By default prints what `virsh domxml-to-native qemu-argv` prints (a pretend start with a \
            system libvirtd's paths), one shell-quoted line. --lines prints one argument a line; \
            --start prints a real start's command line, with sockets and files passed as descriptors \
            from 3 up, and the plan of descriptors to open on stderr.
            """
    )

    @Argument(help: "The native format: qemu-argv.")
    var format: String

    @Argument(help: "The domain XML file ('-' for standard input).")
    var file: String

    @Flag(help: "One argument a line, unquoted.")
    var lines = false

    @Flag(help: "Build a real start's command line (descriptors instead of paths).")
    var start = false

    func validate() throws {
        guard format == "qemu-argv" else {
            throw ValidationError("unsupported config type \(format)")
        }
    }

    func run() async throws {
        do {
            let domain = try DomainParser.define(xml: try DomainFileReader.read(file))
            var builder = QEMUCommandLineBuilder.libvirtPretend(for: domain)
            if start { builder.mode = .start(firstFD: 3) }
            let invocation = try builder.build(domain)
            if lines {
                print(invocation.arguments.joined(separator: "\n"))
            } else {
                print(invocation.arguments.map(ShellQuote.quote).joined(separator: " "))
            }
            for fd in invocation.descriptors {
                DomainFileReader.printLine(toStderr: "fd \(fd.number) \(fd.label) \(fd.purpose)")
            }
        } catch {
            DomainFileReader.printError(error)
            throw ExitCode(1)
        }
    }
}

/// Quotes an argument for a POSIX shell as virsh's `virCommandToString` does: only when needed.
enum ShellQuote {
    static func quote(_ arg: String) -> String {
        let safe = arg.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == 0x2D || b == 0x5F || b == 0x2E || b == 0x2C || b == 0x3A || b == 0x2F || b == 0x3D || b == 0x40
        }
        if safe && !arg.isEmpty { return arg }
        return "'" + arg.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }
}
