import Foundation
import OTAService
import TestSupport
import Testing

// Accounts, roles and the audit trail through the management API, as clients call it: each role can do what its
// row in AccessPolicy says and gets a 403 (audited, nothing changed) for the rest; tokens stop working when revoked
// or when their account is disabled; every change is in the audit trail with who, from where, and before → after,
// and no secret ever is.
@Suite(.serialized) struct OperatorAccessTests {
    final class Setup: Sendable {
        let service: ServiceHarness
        let admin: APICaller

        init() async throws {
            service = try await ServiceHarness()
            admin = try APICaller(service, token: try TokenFile.read(service.server.adminToken.path))
        }

        /// An account with `role` and an API caller holding a fresh token of it.
        func account(_ name: String, _ role: OperatorRole) async throws -> APICaller {
            let created = try await admin.call(
                .POST, "/api/v1/users", json: #"{"name":"\#(name)","role":"\#(role.rawValue)"}"#)
            #expect(created.status == 201, "\(created.text)")
            let issued = try await admin.call(.POST, "/api/v1/users/\(name)/tokens", json: #"{"label":"test"}"#)
            #expect(issued.status == 201, "\(issued.text)")
            return try APICaller(service, token: try #require(try issued.object()["token"] as? String))
        }

        func audit() async throws -> [[String: Any]] {
            let answer = try await admin.call(.GET, "/api/v1/audit?limit=1000")
            #expect(answer.status == 200, "\(answer.text)")
            return try #require(try answer.json() as? [[String: Any]])
        }

        func shutdown() async {
            await admin.shutdown()
            await service.shutdown()
        }
    }

    @Test func aViewerReadsButEveryChangeIsRefusedAuditedAndChangesNothing() async throws {
        let setup = try await Setup()
        defer { Task { await setup.shutdown() } }
        let viewer = try await setup.account("vera", .viewer)
        defer { Task { await viewer.shutdown() } }
        #expect(try await viewer.call(.GET, "/api/v1/things").status == 200)
        #expect(try await viewer.call(.GET, "/api/v1/updates").status == 200)
        let me = try await viewer.call(.GET, "/api/v1/me").object()
        #expect(me["name"] as? String == "vera" && me["role"] as? String == "viewer")

        let refused = try await viewer.call(.POST, "/api/v1/things", json: #"{"name":"sneaky"}"#)
        #expect(refused.status == 403)
        #expect(refused.text.contains("operator role"), "\(refused.text)")
        #expect(try await viewer.call(.POST, "/api/v1/updates", json: #"{"id":"u","fileId":"f"}"#).status == 403)
        #expect(try await viewer.call(.GET, "/api/v1/users").status == 403)
        #expect(try await viewer.call(.GET, "/api/v1/audit").status == 403)
        #expect(try await setup.service.server.store.read { try $0.things() }.isEmpty)

        let entries = try await setup.audit().filter { $0["actor"] as? String == "vera" }
        #expect(entries.count == 4, "every refusal is audited: \(entries)")
        let first = try #require(entries.first)
        #expect(first["action"] as? String == "POST /api/v1/things")
        #expect(first["status"] as? Int == 403 && first["role"] as? String == "viewer")
        #expect(first["source"] as? String == "127.0.0.1")
    }

    @Test func anOperatorChangesTheFleetButNotAccountsCAsOrProfilesAndEachChangeIsAuditedBeforeAndAfter() async throws {
        let setup = try await Setup()
        defer { Task { await setup.shutdown() } }
        let op = try await setup.account("otto", .operator)
        defer { Task { await op.shutdown() } }
        #expect(
            try await op.call(.POST, "/api/v1/things", json: #"{"name":"dev-1","attributes":{"ring":"a"}}"#).status
                == 201)
        #expect(try await op.call(.PATCH, "/api/v1/things/dev-1", json: #"{"attributes":{"ring":"b"}}"#).status == 200)
        #expect(try await op.call(.POST, "/api/v1/groups", json: #"{"name":"g1"}"#).status == 201)
        #expect(try await op.call(.POST, "/api/v1/users", json: #"{"name":"x","role":"admin"}"#).status == 403)
        #expect(try await op.call(.PATCH, "/api/v1/users/otto", json: #"{"role":"admin"}"#).status == 403)
        #expect(
            try await op.call(.POST, "/api/v1/signing-profiles", json: #"{"name":"p","generateKey":true}"#).status
                == 403)
        #expect(try await op.call(.POST, "/api/v1/ca-certificates", json: #"{"certificatePEM":"x"}"#).status == 403)
        #expect(try await setup.service.server.store.read { try $0.operatorAccount(named: "otto") }?.role == .operator)

        let entries = try await setup.audit().filter { $0["actor"] as? String == "otto" }
        #expect(entries.map { $0["status"] as? Int } == [201, 200, 201, 403, 403, 403, 403])
        let created = entries[0]
        #expect(created["before"] == nil || created["before"] is NSNull)
        #expect((created["after"] as? String)?.contains(#""name":"dev-1""#) == true, "\(created)")
        let patched = entries[1]
        #expect(patched["target"] as? String == "thing dev-1")
        #expect((patched["before"] as? String)?.contains(#""ring":"a""#) == true, "\(patched)")
        #expect((patched["after"] as? String)?.contains(#""ring":"b""#) == true, "\(patched)")
        let sequences = entries.compactMap { $0["sequence"] as? Int }
        #expect(sequences == sequences.sorted())
    }

    @Test func revokedTokensAndDisabledAccountsStopAtOnceAndRoleChangesApplyAtOnce() async throws {
        let setup = try await Setup()
        defer { Task { await setup.shutdown() } }
        let user = try await setup.account("rita", .viewer)
        defer { Task { await user.shutdown() } }
        #expect(try await user.call(.POST, "/api/v1/things", json: #"{"name":"a"}"#).status == 403)
        #expect(try await setup.admin.call(.PATCH, "/api/v1/users/rita", json: #"{"role":"operator"}"#).status == 200)
        #expect(try await user.call(.POST, "/api/v1/things", json: #"{"name":"a"}"#).status == 201)
        #expect(try await setup.admin.call(.PATCH, "/api/v1/users/rita", json: #"{"disabled":true}"#).status == 200)
        #expect(try await user.call(.GET, "/api/v1/things").status == 401)
        #expect(try await setup.admin.call(.PATCH, "/api/v1/users/rita", json: #"{"disabled":false}"#).status == 200)
        #expect(try await user.call(.GET, "/api/v1/things").status == 200)

        let tokens = try #require(try await user.call(.GET, "/api/v1/users/rita/tokens").json() as? [[String: Any]])
        let id = try #require(tokens.first?["id"] as? String)
        #expect(tokens.first?["token"] == nil && tokens.first?["digest"] == nil, "a list never shows a token")
        #expect(try await user.call(.POST, "/api/v1/users/rita/tokens/\(id)/revoke").status == 200)
        #expect(try await user.call(.GET, "/api/v1/things").status == 401)
        #expect(try await user.call(.GET, "/api/v1/me").status == 401)
    }

    @Test func anAccountManagesItsOwnTokensOnlyAndNoSecretReachesTheAuditTrail() async throws {
        let setup = try await Setup()
        defer { Task { await setup.shutdown() } }
        let user = try await setup.account("sam", .operator)
        let other = try await setup.account("kim", .operator)
        defer { Task { await user.shutdown() } }
        defer { Task { await other.shutdown() } }
        let own = try await user.call(.POST, "/api/v1/users/sam/tokens", json: #"{"label":"ci"}"#)
        #expect(own.status == 201)
        let token = try #require(try own.object()["token"] as? String)
        #expect(token.hasPrefix("ota_") && token.count > 64)
        #expect(try await user.call(.POST, "/api/v1/users/kim/tokens", json: "{}").status == 403)
        #expect(try await user.call(.GET, "/api/v1/users/kim/tokens").status == 403)

        let password = "a long enough passphrase"
        let created = try await setup.admin.call(
            .POST, "/api/v1/users", json: #"{"name":"pat","role":"viewer","password":"\#(password)"}"#)
        let hasPassword = try created.object()["hasPassword"] as? Bool
        #expect(created.status == 201 && hasPassword == true)
        #expect(
            try await setup.admin.call(
                .POST, "/api/v1/users", json: #"{"name":"short","role":"viewer","password":"abc"}"#
            )
            .status == 400)
        let stored = try await setup.service.server.store.read { try $0.operatorAccount(named: "pat") }
        #expect(stored?.passwordHash?.hasPrefix("scrypt$") == true)
        #expect(stored?.passwordHash?.contains(password) == false)

        let trail = try await setup.admin.call(.GET, "/api/v1/audit?limit=1000").text
        #expect(!trail.contains(token) && !trail.contains(password) && !trail.contains("scrypt$"))
        #expect(trail.contains(#"\"label\":\"ci\""#), "a token's creation is audited by its id and label")
        let digest = try await setup.service.server.store.read { try $0.apiTokens(of: "sam") }.map(\.digest)
        #expect(digest.allSatisfy { !trail.contains($0) })
    }

    @Test func badAccountRequestsAreRefusedWithAReason() async throws {
        let setup = try await Setup()
        defer { Task { await setup.shutdown() } }
        let cases: [(String, Int)] = [
            (#"{"name":"ok-name","role":"superuser"}"#, 400),
            (#"{"name":"bad name","role":"viewer"}"#, 400),
            (#"{"name":"admin-token","role":"viewer"}"#, 400),
            (#"{"role":"viewer"}"#, 400),
            (#"{"name":"#, 400),
        ]
        for (body, status) in cases {
            let answer = try await setup.admin.call(.POST, "/api/v1/users", json: body)
            #expect(answer.status == status, "\(body): \(answer.text)")
        }
        #expect(
            try await setup.admin.call(.POST, "/api/v1/users", json: #"{"name":"dup","role":"viewer"}"#).status == 201)
        #expect(
            try await setup.admin.call(.POST, "/api/v1/users", json: #"{"name":"dup","role":"admin"}"#).status == 409)
        #expect(try await setup.admin.call(.PATCH, "/api/v1/users/ghost", json: #"{"role":"admin"}"#).status == 404)
        #expect(try await setup.admin.call(.GET, "/api/v1/audit?limit=0").status == 400)
        #expect(try await setup.admin.call(.GET, "/api/v1/audit?after=-4").status == 400)
        #expect(try await setup.service.server.store.read { try $0.operatorAccounts() }.map(\.name) == ["dup"])
    }
}
