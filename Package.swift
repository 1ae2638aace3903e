// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "VirtKit",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "virtkit", targets: ["virtkit"]),
        .library(name: "VirtKitDomain", targets: ["VirtKitDomain"]),
        .library(name: "VirtKitQEMU", targets: ["VirtKitQEMU"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // libxml2, the parser libvirt itself uses (Debian: libxml2-dev).
        .systemLibrary(
            name: "CLibXML2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"])]
        ),
        // Pure leaf: libvirt domain XML <-> value types, defaults, validation. No sockets, no QEMU.
        .target(name: "VirtKitDomain", dependencies: ["CLibXML2"]),
        // Pure leaf: Domain -> QEMU argv plus the plan of fds to pre-open. No sockets, no QEMU.
        .target(name: "VirtKitQEMU", dependencies: ["VirtKitDomain"]),
        // The CLI as a library of commands.
        .target(
            name: "VirtKitCommands",
            dependencies: [
                "VirtKitDomain", "VirtKitQEMU",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "virtkit", dependencies: ["VirtKitCommands"]),
        .executableTarget(
            name: "virtkit-bench",
            dependencies: ["VirtKitDomain", "VirtKitQEMU"],
            path: "Benchmarks/virtkit-bench"
        ),
        // Golden files and cases live under Tests/Golden and Tests/ConformanceTests/Cases and are
        // found through #filePath, so every target can share them.
        .target(name: "VirtKitTestSupport", path: "Tests/Support"),
        .testTarget(name: "VirtKitDomainTests", dependencies: ["VirtKitDomain", "VirtKitTestSupport"]),
        .testTarget(name: "VirtKitQEMUTests", dependencies: ["VirtKitQEMU", "VirtKitDomain", "VirtKitTestSupport"]),
        .testTarget(name: "VirtKitCommandsTests", dependencies: ["VirtKitCommands"]),
        .testTarget(
            name: "ConformanceTests",
            dependencies: ["VirtKitQEMU", "VirtKitDomain", "VirtKitTestSupport"],
            exclude: ["Cases"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
