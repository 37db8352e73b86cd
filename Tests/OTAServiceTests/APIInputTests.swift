import Foundation
import OTAService
import TestSupport
import Testing

// Inputs the management API must read the way HTTP defines them, and free text it must bound.
@Suite(.serialized) struct APIInputTests {
    @Test func theBearerSchemeIsCaseInsensitive() async throws {
        let service = try await ServiceHarness()
        defer { Task { await service.shutdown() } }
        let token = try ManagementAPITests.token(service)
        for scheme in ["Bearer", "bearer", "BEARER"] {
            let api = try APICaller(service, token: token, scheme: scheme)
            #expect(try await api.call(.GET, "/api/v1/things").status == 200, "\(scheme)")
            await api.shutdown()
        }
        let basic = try APICaller(service, token: token, scheme: "Basic")
        #expect(try await basic.call(.GET, "/api/v1/things").status == 401)
        await basic.shutdown()
    }

    @Test func pathParametersArePercentDecoded() async throws {
        let service = try await ServiceHarness()
        defer { Task { await service.shutdown() } }
        let api = try APICaller(service, token: try ManagementAPITests.token(service))
        defer { Task { await api.shutdown() } }
        _ = try await service.server.registry.createThing("x:y")
        let thing = try await api.call(.GET, "/api/v1/things/x%3Ay")
        #expect(thing.status == 200, "\(thing.text)")
        #expect(try thing.object()["name"] as? String == "x:y")
        let bad = try await api.call(.GET, "/api/v1/things/x%ZZ")
        // Hummingbird's router finds no route for broken percent-encoding; either way a refusal, never a 500.
        #expect([400, 404].contains(bad.status), "\(bad.status) \(bad.text)")
    }

    @Test func freeTextIsBoundedAndRefusesControlCharacters() async throws {
        let service = try await ServiceHarness()
        defer { Task { await service.shutdown() } }
        let api = try APICaller(service, token: try ManagementAPITests.token(service))
        defer { Task { await api.shutdown() } }
        for description in [String(repeating: "a", count: 3000), "line\u{0}end"] {
            let body = String(
                decoding: try JSONSerialization.data(withJSONObject: ["name": "g", "description": description]),
                as: UTF8.self)
            let answer = try await api.call(.POST, "/api/v1/groups", json: body)
            #expect(answer.status == 400, "\(answer.text)")
        }
        #expect(try await service.server.store.read { try $0.groups() }.isEmpty, "nothing was created")
        let fine = #"{"name":"g","description":"two\nlines"}"#
        #expect(try await api.call(.POST, "/api/v1/groups", json: fine).status == 201)
    }
}
