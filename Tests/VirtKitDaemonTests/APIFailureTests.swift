import Foundation
import NIOCore
import Hummingbird
import Testing
import VirtKitAPI
@testable import VirtKitDaemon
import VirtKitRuntime

@Suite("The runtime's errors on the HTTP wire")
struct APIFailureTests {
    /// Every runtime error code, with the status and JSON code it must answer with.
    static let expected: [(RuntimeError.Code, Int, String)] = [
        (.noDomain, 404, "no-domain"), (.operationInvalid, 409, "operation-invalid"),
        (.operationFailed, 500, "operation-failed"), (.operationTimeout, 504, "operation-timeout"),
        (.xmlError, 400, "xml-error"), (.configUnsupported, 400, "config-unsupported"),
        (.domainExists, 409, "domain-exists"), (.internalError, 500, "internal-error"),
        (.systemError, 500, "system-error"), (.invalidArgument, 400, "invalid-arg"),
        (.agentUnresponsive, 503, "agent-unresponsive"), (.argumentUnsupported, 400, "argument-unsupported"),
        (.noNetwork, 404, "no-network"), (.networkExists, 409, "network-exists"),
    ]

    @Test func everyCodeHasAStatusAndItsLibvirtName() async throws {
        #expect(Set(Self.expected.map(\.0)) == Set(RuntimeError.Code.allCases))
        for (code, status, name) in Self.expected {
            let failure = APIFailure(RuntimeError(code, "message for \(name)", cause: CocoaError(.fileNoSuchFile)))
            #expect(failure.status.code == status, "\(code)")
            let response = failure.response
            #expect(response.status.code == status)
            #expect(response.headers[.contentType] == "application/json")
            let text = String(buffer: APIRouter.encode(APIErrorBody(error: failure.error)))
            #expect(text == #"{"error":{"code":"\#(name)","message":"message for \#(name)"}}"#)
        }
    }

    @Test func anythingElseIsAnInternalErrorWithItsText() {
        struct Odd: Error {}
        let failure = APIFailure(unexpected: Odd())
        #expect(failure.status == .internalServerError)
        #expect(failure.error.code == .internalError)
        #expect(failure.error.message.hasPrefix("internal error: Odd"))
        let api = APIFailure(unexpected: APIError(.invalidArgument, "bad"))
        #expect(api.status == .badRequest && api.error.message == "bad")
    }
}
