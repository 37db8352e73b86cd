import Foundation
import TestSupport
import Testing

// `ota users` and `ota audit` against a running `ota serve`, as an admin sets up a team: accounts with roles, a
// token written to a 0600 file and used with --token-file, a refusal that names the role needed, and the trail.
@Suite(.serialized) struct UsersCLITests {
    @Test func anAdminCreatesAViewerWhoseTokenReadsButCannotChangeAndTheTrailShowsBoth() async throws {
        let service = try await ServiceProcess()
        defer { service.stop() }
        try await service.cli(["users", "create", "vera", "--role", "viewer"])
        let tokenFile = service.directory.path("vera.token")
        let written = try await service.cli([
            "users", "token", "create", "vera", "--label", "laptop", "--out", tokenFile,
        ])
        #expect(written.contains("mode 0600"))
        let mode = try FileManager.default.attributesOfItem(atPath: tokenFile)[.posixPermissions]
        #expect((mode as? NSNumber)?.intValue == 0o600)
        let token = try String(contentsOfFile: tokenFile, encoding: .utf8)
        #expect(!written.contains(token.trimmingCharacters(in: .whitespacesAndNewlines)), "--out does not print it")

        let asVera = [
            "--server", "https://localhost:\(service.apiPort)", "--token-file", tokenFile, "--ca",
            service.dataDir + "/pki/ca.pem",
        ]
        let read = try await OTACLI.run(["things", "list"] + asVera)
        #expect(read.status == 0, "\(read.stderr)")
        let refused = try await OTACLI.run(["things", "create", "sneaky"] + asVera)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("operator role"), "\(refused.stderr)")

        let accounts = try await #require(try service.json(["users", "list"]) as? [[String: Any]])
        #expect(accounts.map { $0["name"] as? String } == ["vera"])
        #expect(accounts.first?["role"] as? String == "viewer" && accounts.first?["hasPassword"] as? Bool == false)
        let tokens = try await #require(try service.json(["users", "token", "list", "vera"]) as? [[String: Any]])
        #expect(tokens.count == 1 && tokens.first?["label"] as? String == "laptop")

        let trail = try await service.cli(["audit"])
        #expect(trail.contains("admin-token (admin)") && trail.contains("POST /api/v1/users"))
        #expect(trail.contains("vera (viewer)") && trail.contains("POST /api/v1/things") && trail.contains("→ 403"))

        try await service.cli(["users", "token", "revoke", "vera", try #require(tokens.first?["id"] as? String)])
        await #expect(try OTACLI.run(["things", "list"] + asVera).status != 0, "a revoked token opens nothing")
        let badRole = try await OTACLI.run(
            [
                "users", "create", "x", "--role", "root", "--data-dir", service.dataDir, "--server",
                "https://localhost:\(service.apiPort)",
            ])
        #expect(badRole.status == 64, "an unknown role is a usage error: \(badRole.stderr)")
    }
}
