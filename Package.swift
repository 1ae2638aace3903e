// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "VirtKit",
    products: [
        .executable(name: "virtkit", targets: ["virtkit"]),
        .executable(name: "virtkit-cli", targets: ["virtkit-cli"]),
        .executable(name: "virtkitd", targets: ["virtkitd"]),
        .library(name: "VirtKitDomain", targets: ["VirtKitDomain"]),
        .library(name: "VirtKitQEMU", targets: ["VirtKitQEMU"]),
        .library(name: "VirtKitQMP", targets: ["VirtKitQMP"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // HTTP/1 <-> HTTPTypes codec for the WebSocket upgrade channel (already in the graph via Hummingbird).
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        // The API's types and routes are generated from docs/openapi.yaml at build time.
        .package(url: "https://github.com/apple/swift-openapi-generator", from: "1.14.3"),
        .package(url: "https://github.com/apple/swift-openapi-runtime", from: "1.13.4"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/hummingbird-project/swift-openapi-hummingbird", from: "2.1.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // libxml2, the parser libvirt itself uses (Debian: libxml2-dev).
        .systemLibrary(
            name: "CLibXML2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"])]
        ),
        // Pure leaf: libvirt domain XML <-> value types, defaults, validation. No sockets, no QEMU.
        .target(name: "VirtKitDomain", dependencies: ["CLibXML2", "VirtKitText", "VirtKitModel"]),
        // Pure leaf: libvirt network XML <-> value types, validation, and what a network runs
        // with (dnsmasq's configuration, the nftables ruleset). No sockets, no processes.
        .target(name: "VirtKitNetwork", dependencies: ["VirtKitDomain"]),
        // Pure leaf: Domain -> QEMU argv plus the plan of fds to pre-open. No sockets, no QEMU.
        .target(name: "VirtKitQEMU", dependencies: ["VirtKitDomain"]),
        // Pure leaf: JSON values that keep their key order and exact integers, a strict parser
        // and a compact writer: what QMP and the guest agent's protocol both speak.
        .target(name: "VirtKitJSON"),
        // Pure leaf: the one way to trim blanks from text and bytes, and the line scanner of
        // QEMU's line protocols.
        .target(name: "VirtKitText"),
        // Pure leaf: XDR (RFC 4506) as rpcgen writes it for libvirt's RPC protocol. No Swift
        // library for it exists; a reader and a writer are all the protocol needs.
        .target(name: "VirtKitXDR"),
        // Pure leaf: libvirt's RPC protocol (packets, errors, the connection's state machine,
        // domain states in libvirt's numbers). No sockets.
        .target(name: "VirtKitLibvirtRPC", dependencies: ["VirtKitXDR", "VirtKitModel"]),
        // QEMU's JSON monitor protocol (QMP) over SwiftNIO: QMP.Client, QMP.Error, QMP.Event.
        .target(
            name: "VirtKitQMP",
            dependencies: [
                "VirtKitJSON", "VirtKitText",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ]
        ),
        // Monitor redirection: a guest's interactive (HMP, or QMP on request) and command channels on
        // UNIX and TCP sockets, many clients at once over the daemon's one QMP connection.
        .target(
            name: "VirtKitMonitor",
            dependencies: [
                "VirtKitQMP", "VirtKitHost", "VirtKitText",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // The chardev broker: virtkitd as QEMU's peer on a chardev, fanned out to many clients
        // (writer pen, read-only observers, scrollback, bounded queues), logged with rotation.
        .target(
            name: "VirtKitBroker",
            dependencies: [
                "CVirtKitHost",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // The QEMU guest agent's protocol (guest-sync-delimited handshake, libvirt's timeouts) over a
        // byte stream to the guest's org.qemu.guest_agent.0 port: GuestAgent.Client.
        .target(
            name: "VirtKitGuestAgent",
            dependencies: [
                "VirtKitJSON", "VirtKitText",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // The host OS: spawning with an fd map and setsid, listening sockets at any path length,
        // process identity. C where Glibc's Swift overlay does not reach (posix_spawn extras).
        .target(name: "CVirtKitHost"),
        .target(
            name: "VirtKitHost",
            dependencies: ["CVirtKitHost", .product(name: "SystemPackage", package: "swift-system")]
        ),
        // The runtime's vocabulary, shared by every front and the CLI: a domain's state and
        // reason, its chardevs and monitor endpoints, shutdown options, where a daemon runs.
        // Pure values, no wire, no I/O.
        .target(name: "VirtKitModel"),
        // The HTTP API's paths, request types and error body, shared by virtkitd and the CLI
        // (Codable, no NIO).
        .target(name: "VirtKitAPI", dependencies: ["VirtKitModel"]),
        // The daemon's guests: definitions, running QEMU processes, status files, re-attach.
        .target(
            name: "VirtKitRuntime",
            dependencies: [
                "VirtKitDomain", "VirtKitNetwork", "VirtKitQEMU", "VirtKitQMP", "VirtKitHost", "VirtKitModel", "VirtKitMonitor", "VirtKitBroker", "VirtKitGuestAgent", "VirtKitText",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // virtkitd as a library: the HTTP/JSON API on a UNIX socket, its WebSocket streams, and its ServiceGroup.
        // The HTTP API's types and server protocol, generated from docs/openapi.yaml (a link in
        // the target) by swift-openapi-generator's build plugin, and the model's conversions to them.
        .target(
            name: "VirtKitOpenAPI",
            dependencies: [
                "VirtKitModel",
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
            ],
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
        // The second front door: libvirt's RPC protocol over the runtime, for virsh and
        // python-libvirt.
        .target(
            name: "VirtKitLibvirtServer",
            dependencies: [
                "VirtKitLibvirtRPC", "VirtKitXDR", "VirtKitRuntime", "VirtKitModel", "VirtKitHost", "VirtKitJSON", "VirtKitText",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .target(
            name: "VirtKitDaemon",
            dependencies: [
                "VirtKitRuntime", "VirtKitAPI", "VirtKitHost", "VirtKitOpenAPI", "VirtKitLibvirtServer",
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The CLI's side of the API, for the front and the full command tree alike: a blocking
        // HTTP/1.1 connection over the daemon's UNIX socket, a typed client with one method per
        // endpoint, the terminal relay, by-name sockets, and what the verbs print. No NIO, no
        // argument parser, no concurrency: the static front links it.
        .target(
            name: "VirtKitClient",
            dependencies: [
                "VirtKitAPI", "VirtKitHost", "VirtKitText", "VirtKitJSON",
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // The verbs the `virtkit` executable serves itself (one-shot monitor command, define,
        // start, list), parsed by hand and carried out by VirtKitClient: no argument parser, no
        // concurrency runtime, no NIO, no domain model, no libxml2.
        .target(
            name: "VirtKitFront",
            dependencies: [
                "VirtKitClient", "VirtKitAPI", "VirtKitHost",
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // The CLI as a library of commands.
        .target(
            name: "VirtKitCommands",
            dependencies: [
                "VirtKitDomain", "VirtKitQEMU", "VirtKitAPI", "VirtKitClient", "VirtKitHost",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // `virtkit`: a fully static front (no dynamic loader, a small binary whose first
        // dynamic casts scan few conformance records) serving VirtKitFront's verbs, and exec'ing
        // `virtkit-cli` for the rest (start-up figures in docs/performance.md).
        .executableTarget(
            name: "virtkit", dependencies: ["VirtKitFront"],
            linkerSettings: [.unsafeFlags(["-static-executable", "-Xlinker", "--start-group", "-Xlinker", "-l_FoundationCollections", "-Xlinker", "-l_FoundationCShims", "-Xlinker", "--end-group"])]
        ),
        // `virtkit-cli`: the full command tree. It links the Swift runtime statically: a process
        // that lives for one request spends most of its time loading shared libraries otherwise.
        .executableTarget(
            name: "virtkit-cli", dependencies: ["VirtKitCommands"],
            linkerSettings: [.unsafeFlags(["-static-stdlib", "-Xclang-linker", "-no-pie", "-Xlinker", "--start-group", "-Xlinker", "-l_FoundationCollections", "-Xlinker", "-l_FoundationCShims", "-Xlinker", "--end-group"])]
        ),
        .executableTarget(name: "virtkitd", dependencies: ["VirtKitDaemon"]),
        // Fuzz targets (Scripts/fuzz.sh builds them with libFuzzer, -sanitize=fuzzer and
        // -DFUZZING); built plainly, each replays the corpus files it is given.
        .target(name: "CFuzz", path: "Fuzz/CFuzz"),
        .target(name: "FuzzReplay", dependencies: ["CFuzz"], path: "Fuzz/FuzzReplay"),
        .executableTarget(name: "FuzzDomain", dependencies: ["VirtKitDomain", "VirtKitQEMU", "FuzzReplay"],
                          path: "Fuzz/FuzzDomain"),
        .executableTarget(name: "FuzzJSON", dependencies: ["VirtKitJSON", "VirtKitText", "FuzzReplay"],
                          path: "Fuzz/FuzzJSON"),
        .executableTarget(name: "FuzzLibvirtRPC", dependencies: ["VirtKitLibvirtRPC", "VirtKitXDR", "FuzzReplay"],
                          path: "Fuzz/FuzzLibvirtRPC"),
        .executableTarget(
            name: "virtkit-bench",
            dependencies: [
                "VirtKitDomain", "VirtKitQEMU", "VirtKitBroker", "VirtKitHost",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            path: "Benchmarks/virtkit-bench"
        ),
        // Golden files and cases live under Tests/Golden and Tests/ConformanceTests/Cases and are
        // found through #filePath, so every target can share them.
        // The tests' shared harness: QEMU processes and instances, the test guest image, a second
        // local user, golden files.
        .target(name: "VirtKitTestSupport", dependencies: ["VirtKitQMP"], path: "Tests/Support"),
        .testTarget(name: "VirtKitJSONTests", dependencies: ["VirtKitJSON"]),
        .testTarget(name: "VirtKitTextTests", dependencies: ["VirtKitText"]),
        .testTarget(name: "VirtKitDomainTests", dependencies: ["VirtKitDomain", "VirtKitTestSupport"]),
        .testTarget(name: "VirtKitNetworkTests", dependencies: ["VirtKitNetwork", "VirtKitDomain"], exclude: ["Cases", "RoundTrip"]),
        .testTarget(name: "VirtKitQEMUTests", dependencies: ["VirtKitQEMU", "VirtKitDomain", "VirtKitTestSupport"]),
        .testTarget(name: "VirtKitCommandsTests", dependencies: ["VirtKitCommands", "VirtKitClient"]),
        .testTarget(name: "VirtKitXDRTests", dependencies: ["VirtKitXDR"]),
        .testTarget(name: "VirtKitLibvirtRPCTests", dependencies: ["VirtKitLibvirtRPC", "VirtKitXDR", "VirtKitModel"]),
        .testTarget(
            name: "VirtKitDaemonTests",
            dependencies: [
                "VirtKitDaemon", "VirtKitRuntime", "VirtKitAPI", "VirtKitOpenAPI",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .testTarget(
            name: "VirtKitFrontTests",
            dependencies: ["VirtKitFront", "VirtKitClient", "VirtKitAPI", "VirtKitCommands",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "VirtKitClientTests", dependencies: ["VirtKitClient", "VirtKitAPI"]),
        .testTarget(name: "VirtKitAPITests", dependencies: ["VirtKitAPI"]),
        .testTarget(
            name: "VirtKitQMPTests",
            dependencies: [
                "VirtKitQMP", "VirtKitTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "VirtKitMonitorTests",
            dependencies: [
                "VirtKitMonitor", "VirtKitQMP", "VirtKitTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .testTarget(
            name: "VirtKitGuestAgentTests",
            dependencies: [
                "VirtKitGuestAgent", "VirtKitQMP", "VirtKitTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "VirtKitBrokerTests",
            dependencies: [
                "VirtKitBroker", "VirtKitTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "VirtKitHostTests", dependencies: ["VirtKitHost", "VirtKitTestSupport"]),
        .testTarget(name: "VirtKitRuntimeTests", dependencies: ["VirtKitRuntime", "VirtKitQMP", "VirtKitTestSupport"]),
        // End to end: real guests under virtkitd (in process and as a daemon), its CLI, its API
        // and libvirt's tools beside it. The unit tests run without it:
        // swift test --skip 'VirtKitIntegrationTests|RealQEMU|RealAgent'
        .testTarget(
            name: "VirtKitIntegrationTests",
            dependencies: [
                "VirtKitRuntime", "VirtKitDaemon", "VirtKitClient", "VirtKitQMP",
                "VirtKitHost", "VirtKitAPI", "VirtKitTestSupport", "VirtKitLibvirtRPC", "VirtKitXDR",
            ]
        ),
        .testTarget(
            name: "ConformanceTests",
            dependencies: ["VirtKitQEMU", "VirtKitDomain", "VirtKitTestSupport"],
            exclude: ["Cases"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
