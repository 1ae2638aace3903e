import Foundation
import Testing
import VirtKitAPI

@Suite("The API's paths, bodies, errors and addresses")
struct APITests {
    @Test(arguments: ["demo", "a b", "x/y", "ünïcødé-名前", "100%", "q?#&=+", ".hidden"])
    func domainNamesSurviveThePath(name: String) {
        let path = APIPath.domain(name)
        #expect(!path.dropFirst(APIPath.domains.count + 1).contains("/"), "\(path)")
        #expect(APIPath.domainName(inPath: path) == name)
    }

    @Test func pathsThatAreNotOneDomainNameNothing() {
        #expect(APIPath.domainName(inPath: "/v1/domains/") == nil)
        #expect(APIPath.domainName(inPath: "/v1/domains/a/start") == nil)
        #expect(APIPath.domainName(inPath: "/v1/domains/%zz") == nil)
        #expect(APIPath.domainName(inPath: "/v1/domains/%ff") == nil, "not UTF-8")
        #expect(APIPath.domainName(inPath: "/v2/domains/a") == nil)
    }

    @Test func missingFieldsTakeTheirDefaults() throws {
        let shutdown = try JSONDecoder().decode(ShutdownRequest.self, from: Data("{}".utf8))
        #expect(shutdown == ShutdownRequest(mode: .acpi, timeoutSeconds: 60, wait: false))
        #expect(try JSONDecoder().decode(StartRequest.self, from: Data("{}".utf8)).paused == false)
        let agent = try JSONDecoder().decode(AgentCommandRequest.self, from: Data(#"{"command":"{}"}"#.utf8))
        #expect(agent.timeout == -1)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(AgentCommandRequest.self, from: Data("{}".utf8)) }
    }

    @Test func errorsCrossTheWireAsLibvirtNames() throws {
        let body = APIErrorBody(error: APIError(.noDomain, "Domain not found"))
        let text = String(decoding: try JSONEncoder().encode(body), as: UTF8.self)
        #expect(text.contains(#""code":"no-domain""#))
        #expect(try JSONDecoder().decode(APIErrorBody.self, from: Data(text.utf8)).error == body.error)
        #expect(APIError(.noDomain, "").httpStatus == 404)
        #expect(APIError(.operationInvalid, "").httpStatus == 409)
        #expect(APIError(.xmlError, "").httpStatus == 400)
        #expect(APIError(.noConnect, "").httpStatus == 503)
    }

    @Test func connectionURIsAsVirshTakesThem() {
        #expect(DaemonAddress(uri: "virtkit:///system") == .system)
        #expect(DaemonAddress(uri: "qemu:///session") == .session)
        #expect(DaemonAddress(uri: "virtkit+unix:///run/x.sock") == .socket("/run/x.sock"))
        #expect(DaemonAddress(uri: "virtkit+unix://relative") == nil)
        #expect(DaemonAddress(uri: "qemu+ssh://host/system") == nil)
        #expect(DaemonAddress.fromEnvironment([:], uid: 0) == .system)
        #expect(DaemonAddress.fromEnvironment([:], uid: 1000) == .session)
        #expect(DaemonAddress.fromEnvironment(["VIRTKIT_DEFAULT_URI": "virtkit:///session"], uid: 0) == .session)
        #expect(DaemonAddress.session.socketPath(environment: ["XDG_RUNTIME_DIR": "/run/user/7"])
                == "/run/user/7/virtkit/virtkitd.sock")
        #expect(DaemonAddress.system.socketPath(environment: [:]) == "/run/virtkit/virtkitd.sock")
    }
}
