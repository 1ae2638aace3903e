import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import SystemPackage
import Testing
import VirtKitAPI
@testable import VirtKitDaemon
import VirtKitHost
import VirtKitRuntime

/// The API as docs/openapi.yaml promises it, through the generated routes and ``APIMiddleware``,
/// on a hypervisor in a temporary directory: no QEMU, no socket.
@Suite("The API's contract: generated routes, bodies, errors")
struct APIContractTests {
    static let uuid = "8f2a7c1e-5b3d-4e6f-9a0b-1c2d3e4f5a6b"

    static func xml(name: String, uuid: String = uuid) -> String {
        """
        <domain type='qemu'><name>\(name)</name><uuid>\(uuid)</uuid><memory unit='MiB'>64</memory><vcpu>1</vcpu>
        <os><type arch='x86_64' machine='q35'>hvm</type></os></domain>
        """
    }

    /// Runs `body` against a fresh daemon router over an empty layout.
    static func withAPI(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let root = FilePath("/tmp/vkapi-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try AtomicFile.makeDirectory(root)
        defer { try? FileManager.default.removeItem(atPath: root.string) }
        let layout = RuntimeLayout(mode: .session, configDirectory: root.appending("etc"), stateDirectory: root.appending("state"),
                                   runDirectory: root.appending("run"), logDirectory: root.appending("log"),
                                   socketPath: root.appending("run/virtkitd.sock"))
        var logger = Logger(label: "api-contract")
        logger.logLevel = .critical
        let probe = AcceleratorProbe(cachePath: layout.stateDirectory.appending("kvm-probe.json"),
                                     guestDirectory: root, deadline: .seconds(1), logger: logger)
        let hypervisor = Hypervisor(layout: layout, logger: logger, accelerators: probe)
        try await hypervisor.load()
        let app = Application(router: try APIRouter.make(hypervisor: hypervisor, mode: .session))
        try await app.test(.router, body)
    }

    static func text(_ response: TestResponse) -> String { String(buffer: response.body) }

    static func expectError(_ response: TestResponse, _ status: Int, _ code: String, containing words: String,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(response.status.code == status, "\(text(response))", sourceLocation: sourceLocation)
        #expect(response.headers[.contentType] == "application/json", sourceLocation: sourceLocation)
        #expect(text(response).hasPrefix(#"{"error":{"code":"\#(code)","message":"#), "\(text(response))", sourceLocation: sourceLocation)
        #expect(text(response).contains(words), "\(text(response))", sourceLocation: sourceLocation)
    }

    @Test func defineQueryAndUndefineANameThatNeedsEscaping() async throws {
        try await Self.withAPI { client in
            let defined = try await client.execute(uri: "/v1/domains", method: .post, body: ByteBuffer(string: Self.xml(name: "my vm+é")))
            #expect(defined.status == .ok, "\(Self.text(defined))")
            #expect(defined.headers[.contentLocation] == "/v1/domains/my%20vm%2B%C3%A9")
            // Compact JSON, keys sorted, no id while shut off.
            let summary = #"{"name":"my vm+é","reason":"unknown","state":"shut off","uuid":"\#(Self.uuid)"}"#
            #expect(Self.text(defined) == summary)
            #expect(Self.text(try await client.execute(uri: "/v1/domains/my%20vm%2B%C3%A9/state", method: .get)) == summary)
            #expect(Self.text(try await client.execute(uri: "/v1/domains", method: .get)) == "[]")
            #expect(Self.text(try await client.execute(uri: "/v1/domains?all=1", method: .get)) == "[\(summary)]")
            let info = try await client.execute(uri: "/v1/domains/my%20vm%2B%C3%A9", method: .get)
            #expect(Self.text(info).contains(#""maxMemoryKiB":65536"#), "\(Self.text(info))")
            let xml = try await client.execute(uri: "/v1/domains/my%20vm%2B%C3%A9/xml?inactive=true", method: .get)
            #expect(xml.headers[.contentType]?.hasPrefix("application/xml") == true)
            #expect(Self.text(xml).contains("<name>my vm+é</name>"))
            let gone = try await client.execute(uri: "/v1/domains/my%20vm%2B%C3%A9", method: .delete)
            #expect(Self.text(gone) == #"{"undefined":"my vm+é"}"#)
            let version = try await client.execute(uri: "/v1/version", method: .get)
            #expect(Self.text(version).hasPrefix(#"{"mode":"session","pid":"#))
        }
    }

    @Test func metricsAreInPrometheusTextFormat() async throws {
        try await Self.withAPI { client in
            _ = try await client.execute(uri: "/v1/domains", method: .post, body: ByteBuffer(string: Self.xml(name: "my vm")))
            _ = try await client.execute(uri: "/v1/domains/my%20vm/autostart", method: .post)
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            #expect(metrics.status == .ok)
            #expect(metrics.headers[.contentType]?.hasPrefix("text/plain") == true)
            let text = Self.text(metrics)
            #expect(text.contains("# TYPE virtkit_domain_running gauge\n"))
            let values = Dictionary(text.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { line -> (String, Double)? in
                guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { return nil }
                return (String(line[..<space]), value)
            }, uniquingKeysWith: { first, _ in first })
            #expect(values[#"virtkit_domain_running{domain="my vm"}"#] == 0)
            #expect(values[#"virtkit_domain_memory_bytes{domain="my vm"}"#] == 67_108_864)
            #expect(values[#"virtkit_domains{state="shut off"}"#] == 1)
            #expect(values[#"virtkit_domains{state="running"}"#] == 0)
            // A stopped domain has no CPU time or chardev series.
            #expect(!text.contains("virtkit_domain_cpu_seconds_total{"))
        }
    }

    @Test func failuresAreTheDocumentsErrorBodies() async throws {
        try await Self.withAPI { client in
            _ = try await client.execute(uri: "/v1/domains", method: .post, body: ByteBuffer(string: Self.xml(name: "demo")))
            Self.expectError(try await client.execute(uri: "/v1/domains/nope", method: .get), 404, "no-domain", containing: "'nope'")
            Self.expectError(try await client.execute(uri: "/v1/domains/demo/frobnicate", method: .post), 400, "invalid-arg",
                             containing: "unknown domain action 'frobnicate'")
            Self.expectError(try await client.execute(uri: "/v1/domains/%ZZ", method: .get), 400, "invalid-arg", containing: "%ZZ")
            let clash = Self.xml(name: "demo", uuid: "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e")
            Self.expectError(try await client.execute(uri: "/v1/domains", method: .post, body: ByteBuffer(string: clash)),
                             409, "domain-exists", containing: "demo")
            Self.expectError(try await client.execute(uri: "/v1/domains", method: .post, body: ByteBuffer(bytes: [0x3C, 0xFF, 0xFE])),
                             400, "xml-error", containing: "not proper UTF-8")
            Self.expectError(try await client.execute(uri: "/v1/domains", method: .post), 400, "invalid-arg", containing: "missing request body")
            Self.expectError(try await client.execute(uri: "/v1/domains/demo/agent", method: .post), 400, "invalid-arg",
                             containing: "missing request body")
        }
    }

    @Test func optionalBodiesTakeTheirDefaultsAndBadOnesAreRefused() async throws {
        try await Self.withAPI { client in
            _ = try await client.execute(uri: "/v1/domains", method: .post, body: ByteBuffer(string: Self.xml(name: "demo")))
            // Blank and empty bodies reach the runtime (which refuses a domain that is not running).
            for body in ["", " \n", "{}", #"{"mode":"agent","wait":true}"#] {
                let response = try await client.execute(uri: "/v1/domains/demo/shutdown", method: .post,
                                                        headers: [.contentType: "text/plain"], body: ByteBuffer(string: body))
                Self.expectError(response, 409, "operation-invalid", containing: "not running")
            }
            for body in ["{", #"{"mode":"bogus"}"#, #"{"timeoutSeconds":"soon"}"#, "[]"] {
                let response = try await client.execute(uri: "/v1/domains/demo/shutdown", method: .post, body: ByteBuffer(string: body))
                Self.expectError(response, 400, "invalid-arg", containing: "invalid")
            }
            let big = ByteBuffer(repeating: UInt8(ascii: " "), count: (16 << 20) + 1)
            Self.expectError(try await client.execute(uri: "/v1/domains/demo/start", method: .post, body: big), 400, "invalid-arg",
                             containing: "at most 16 MiB")
        }
    }
}
