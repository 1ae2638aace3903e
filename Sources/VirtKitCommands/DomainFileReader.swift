import VirtKitDomain
import VirtKitClient

extension DomainFileReader {
    /// Print an error as virsh does ("error: ...") on stderr.
    static func printError(_ error: Error) {
        let text: String
        if let domainError = error as? DomainError { text = domainError.message } else { text = "\(error)" }
        printLine(toStderr: "error: " + text)
    }
}
