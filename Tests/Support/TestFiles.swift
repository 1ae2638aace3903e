import Foundation

/// Where the shared test inputs live: the chardev cases and libvirt's recorded answers for them.
public enum TestFiles {
    /// The package root, from this file's path.
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Tests/ConformanceTests/Cases: one domain XML a case.
    public static let casesDirectory = packageRoot.appendingPathComponent("Tests/ConformanceTests/Cases")

    /// Tests/Golden/libvirt: libvirt 9.0's answers (NAME.args / .args.err / .dump.xml / .dump.err),
    /// written by Scripts/libvirt-oracle.py.
    public static let libvirtGoldenDirectory = packageRoot.appendingPathComponent("Tests/Golden/libvirt")

    /// Tests/Golden/virtkit: VirtKit's own golden files (real-start command lines).
    public static let virtkitGoldenDirectory = packageRoot.appendingPathComponent("Tests/Golden/virtkit")

    /// Every case name, sorted.
    public static let caseNames: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: casesDirectory.path)) ?? []
        return names.filter { $0.hasSuffix(".xml") }.map { String($0.dropLast(4)) }.sorted()
    }()

    public static func caseXML(_ name: String) -> String {
        (try? String(contentsOf: casesDirectory.appendingPathComponent(name + ".xml"), encoding: .utf8)) ?? ""
    }

    /// libvirt's recorded answer `name.ext`, nil when libvirt gave the other outcome.
    public static func libvirtGolden(_ name: String, _ ext: String) -> String? {
        try? String(contentsOf: libvirtGoldenDirectory.appendingPathComponent(name + "." + ext), encoding: .utf8)
    }

    /// The arguments that belong to chardevs, in order: every -chardev, -add-fd, -mon, guestfwd
    /// -netdev, chardev frontend -device and TLS -object, each with its value.
    public static func chardevArguments(_ argv: [String]) -> [String] {
        var out: [String] = []
        var i = 0
        while i < argv.count {
            let option = argv[i]
            let value = i + 1 < argv.count ? argv[i + 1] : ""
            switch option {
            case "-chardev", "-add-fd", "-mon": out.append(option + " " + value)
            case "-netdev" where value.contains("guestfwd"): out.append(option + " " + value)
            case "-device" where value.contains("\"chardev\""): out.append(option + " " + value)
            case "-object" where value.contains("tls-creds"): out.append(option + " " + value)
            default: break
            }
            i += 1
        }
        return out
    }
}
