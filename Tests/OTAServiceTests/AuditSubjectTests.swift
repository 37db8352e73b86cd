import Foundation
import Testing

@testable import OTAService

@Suite struct AuditSubjectTests {
    @Test func anAnswerKeptAsAnAfterHasEverySecretReplacedAtAnyDepth() throws {
        let answer =
            #"{"name":"p","token":"ota_1_2","nested":{"privateKeyPEM":"-----BEGIN","keep":1},"list":[{"password":"x"}]}"#
        let redacted = try #require(AuditSubject.redactedAnswer(Array(answer.utf8)))
        #expect(!redacted.contains("ota_1_2") && !redacted.contains("BEGIN") && !redacted.contains(#""x""#))
        #expect(redacted.contains(#""name":"p""#) && redacted.contains(#""keep":1"#))
        #expect(redacted.components(separatedBy: "(secret)").count == 4)
        #expect(AuditSubject.redactedAnswer(Array("not json".utf8)) == nil)
        let huge = "[" + Array(repeating: "1", count: AuditSubject.maximumAnswerBytes).joined(separator: ",") + "]"
        #expect(AuditSubject.redactedAnswer(Array(huge.utf8)) == nil)
    }

    @Test func routesThatNameOneResourceAreResolvedAndOthersAreNot() {
        let parameters = ["name": "dev-1", "fingerprint": "ab", "id": "u1"]
        let resolve = { (route: String) in AuditSubject.of(route: route) { parameters[$0] }?.label }
        #expect(resolve("/api/v1/things/{name}/certificates") == "thing dev-1")
        #expect(resolve("/api/v1/ca-certificates/{fingerprint}/deactivate") == "ca-certificate ab")
        #expect(resolve("/api/v1/certificates/{fingerprint}/revoke") == "certificate ab")
        #expect(resolve("/api/v1/updates/{id}/cancel") == "update u1")
        #expect(resolve("/api/v1/users/{name}/tokens") == "account dev-1")
        #expect(resolve("/api/v1/things") == nil)
        #expect(resolve("/api/v1/signing-profiles") == nil)
    }

    @Test func theAccessPolicyClosesWhatItDoesNotKnow() {
        #expect(AccessPolicy.requirement(method: .get, route: "/api/v1/things") == .role(.viewer))
        #expect(AccessPolicy.requirement(method: .post, route: "/api/v1/updates/{id}/cancel") == .role(.operator))
        #expect(AccessPolicy.requirement(method: .post, route: "/api/v1/ca-certificates") == .role(.admin))
        #expect(AccessPolicy.requirement(method: .post, route: "/api/v1/signing-profiles") == .role(.admin))
        #expect(AccessPolicy.requirement(method: .get, route: "/api/v1/audit") == .role(.admin))
        #expect(AccessPolicy.requirement(method: .delete, route: "/api/v1/some-future-route") == .role(.admin))
        #expect(
            AccessPolicy.requirement(method: .post, route: "/api/v1/users/{name}/tokens")
                == .selfOrAdmin(parameter: "name"))
        let adminFile = Principal.adminTokenFile
        let kim = Principal(name: "kim", role: .viewer, credential: .apiToken)
        let own = AccessPolicy.Requirement.selfOrAdmin(parameter: "name")
        #expect(AccessPolicy.allows(kim, own) { _ in "kim" })
        #expect(!AccessPolicy.allows(kim, own) { _ in "sam" })
        #expect(AccessPolicy.allows(adminFile, own) { _ in "sam" })
    }
}
