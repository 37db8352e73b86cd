import Foundation
import OTAService
import TestSupport
import Testing

// A signing profile created through the API takes its key from the service's key store only: naming any other
// server file is refused with the same message whether or not it exists, its mode never said, nothing stored.
@Suite(.serialized) struct SigningKeyStoreTests {
    static func body(_ name: String, certificatePEM: String, keyPath: String) throws -> String {
        let object: [String: Any] = ["name": name, "certificatePEM": certificatePEM, "keyPath": keyPath]
        return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    @Test func keysOutsideTheKeyStoreAreRefusedAndKeysInsideItSign() async throws {
        let service = try await ServiceHarness()
        defer { Task { await service.shutdown() } }
        let api = try APICaller(service, token: try TokenFile.read(service.server.adminToken.path))
        defer { Task { await api.shutdown() } }
        let store = service.server.signingKeys.directory
        // The harness's own key is outside the store (the tests' library calls may use any path; the API may not).
        let outside = service.directory.path("signing.key")
        try FileManager.default.createSymbolicLink(atPath: store + "/escape.key", withDestinationPath: outside)
        let refused = [
            outside, "/etc/passwd", "../admin-token", "../../signing.key", "escape.key", "missing.key", "",
            store + "/../admin-token", "a\u{0}b.key",
        ]
        for (index, keyPath) in refused.enumerated() {
            let answer = try await api.call(
                .POST, "/api/v1/signing-profiles",
                json: try Self.body("p\(index)", certificatePEM: service.signingCertificatePEM, keyPath: keyPath))
            #expect(answer.status == 400, "\(keyPath)")
            #expect(answer.text.contains("key store") && !answer.text.contains("mode 6"), "\(keyPath): \(answer.text)")
        }
        #expect(try await service.server.store.read { try $0.signingProfiles() }.map(\.name) == ["demo"])

        try FileManager.default.copyItem(atPath: outside, toPath: store + "/team.key")
        chmod(store + "/team.key", 0o600)
        for (name, keyPath) in [("relative", "team.key"), ("absolute", store + "/team.key")] {
            let created = try await api.call(
                .POST, "/api/v1/signing-profiles",
                json: try Self.body(name, certificatePEM: service.signingCertificatePEM, keyPath: keyPath))
            #expect(created.status == 201, "\(keyPath): \(created.text)")
        }
        let profile = try #require(try await service.server.store.read { try $0.signingProfile(named: "relative") })
        #expect(profile.keyPath == store + "/team.key")
    }
}
