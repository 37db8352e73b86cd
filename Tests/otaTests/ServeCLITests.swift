import ESP32Formats
import Foundation
import TestSupport
import Testing

// `ota serve` and the management commands, run as a person would: separate processes, real HTTPS, --json output.
@Suite(.serialized) struct ServeCLITests {
    static func firmware(_ version: String, size: Int, in directory: TemporaryDirectory) throws -> String {
        var generator = SeededGenerator(seed: UInt64(size))
        let payload = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let image = try AppImageBuilder.application(
            descriptor: AppDescriptor(version: version, projectName: "cli-test"), payload: payload)
        return try directory.write("fw-\(version).bin", image)
    }

    @Test func theFirstStartCreatesThePKIAndTokenAndTheCommandsDriveAnUpdate() async throws {
        let service = try await ServiceProcess()
        defer { service.stop() }
        let banner = service.process.text
        #expect(banner.contains("First start: created") && banner.contains("admin-token (mode 0600)"))
        for (file, mode) in [("admin-token", 0o600), ("pki/ca.key", 0o600), ("pki/server.key", 0o600)] {
            let attributes = try FileManager.default.attributesOfItem(atPath: service.dataDir + "/" + file)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == mode, "\(file)")
        }

        try await service.cli(["things", "create", "dev-1", "--attribute", "ring=beta"])
        try await service.cli(["groups", "create", "beta", "--query", "ring=beta"])
        let group = try await #require(try service.json(["groups", "show", "beta"]) as? [String: Any])
        #expect(group["members"] as? [String] == ["dev-1"])
        let credentials = service.directory.path("dev-1")
        try await service.cli(["things", "issue-certificate", "dev-1", "--out", credentials])
        let keyMode = try FileManager.default.attributesOfItem(atPath: credentials + "/dev-1.key")[.posixPermissions]
        #expect((keyMode as? NSNumber)?.intValue == 0o600)

        try await service.cli(["files", "create-profile", "demo", "--generate-key"])
        let path = try Self.firmware("2.0.0", size: 6000, in: service.directory)
        let file = try await #require(try service.json(["files", "upload", path]) as? [String: Any])
        #expect(file["version"] as? String == "2.0.0" && file["kind"] as? String == "app")
        let fileID = try #require(file["id"] as? String)

        let created = try await #require(
            try service.json([
                "updates", "create", "cli1", "--file", fileID, "--profile", "demo", "--group", "beta", "--continuous",
                "--max-per-minute", "100", "--abort", "FAILED:50:5", "--timeout-minutes", "30",
            ]) as? [String: Any])
        #expect((created["job"] as? [String: Any])?["id"] as? String == "AFR_OTA-cli1")
        let executions = try await #require(
            try service.json(["jobs", "executions", "AFR_OTA-cli1"]) as? [[String: Any]])
        #expect(executions.map { $0["thingName"] as? String } == ["dev-1"])
        #expect(executions.first?["status"] as? String == "QUEUED")

        // A thing that joins the dynamic group later gets the continuous update.
        try await service.cli(["things", "create", "dev-2"])
        try await service.cli(["things", "set-attributes", "dev-2", "ring=beta"])
        let later = try await #require(try service.json(["jobs", "show", "AFR_OTA-cli1"]) as? [String: Any])
        #expect((later["progress"] as? [String: Any])?["queued"] as? Int == 2)

        // The job document says where the device keeps the file and the certificate: by default the uploaded
        // file's name and the ESP32 port's label; --file-path and --certificate-path-on-device set them.
        let defaults = try await Self.jobDocument(service, "AFR_OTA-cli1")
        #expect(defaults.contains(#""filepath":"fw-2.0.0.bin""#) && defaults.contains(#""certfile":"Code Verify Key""#))
        try await service.cli([
            "files", "create-profile", "posix", "--generate-key", "--certificate-path-on-device", "/etc/ota/signer.pem",
        ])
        try await service.cli([
            "updates", "create", "cli2", "--file", path, "--profile", "posix", "--thing", "dev-1", "--file-path",
            "/var/ota/fw-2.0.0.bin",
        ])
        let chosen = try await Self.jobDocument(service, "AFR_OTA-cli2")
        #expect(
            chosen.contains(#""filepath":"/var/ota/fw-2.0.0.bin""#)
                && chosen.contains(#""certfile":"/etc/ota/signer.pem""#), "\(chosen)")
        let nul = try await OTACLI.run(
            [
                "updates", "create", "cli3", "--file", path, "--profile", "posix", "--thing", "dev-1", "--file-path",
                "fw\u{1}.bin", "--data-dir", service.dataDir, "--server", "https://localhost:\(service.apiPort)",
            ])
        #expect(nul.status != 0 && nul.stderr.contains("without control characters"), "\(nul.stderr)")

        let text = try await service.cli(["updates", "show", "cli1"])
        #expect(text.contains("queued 2"))
        try await service.cli(["updates", "cancel", "cli1"])
        let canceled = try await #require(try service.json(["jobs", "show", "AFR_OTA-cli1"]) as? [String: Any])
        #expect((canceled["job"] as? [String: Any])?["status"] as? String == "CANCELED")
    }

    static func jobDocument(_ service: ServiceProcess, _ jobID: String) async throws -> String {
        let view = try #require(try await service.json(["jobs", "show", jobID]) as? [String: Any])
        return try #require((view["job"] as? [String: Any])?["document"] as? String)
    }

    @Test(arguments: [
        (["--file-store", "ftp://bucket"], "--file-store must be local, postgres or s3://"),
        (["--file-store", "postgres"], "--file-store postgres needs --database"),
        (["--database", "mysql://ota@db/ota"], "not a postgres:// URL"),
        (["--database", "postgres://ota@db/ota?sslmode=sometimes"], "sslmode must be one of"),
        (
            ["--database", "postgres://ota@db/ota", "--database-connections", "0"],
            "--database-connections must be 1–100"
        ),
        (["--s3-region", "eu-west-1"], "--s3-* options need --file-store s3://"),
        (["--file-store", "s3://Bad_Bucket"], "bucket name"),
        (["--data-url-expiry", "30"], "--data-url-expiry must be 60–3600"),
        (["--data-url-base", "http://ota.example.com"], "--data-url-base must be https://"),
        (["--data-url-base", "https://user@ota.example.com"], "--data-url-base must be https://"),
        (["--file-cache-mib", "1"], "--file-cache-mib must be 4–65536"),
        (["--event-loops", "0"], "--event-loops must be 1–256"),
        (["--last-seen-resolution=-1"], "--last-seen-resolution must be 0–86400 seconds"),
        (["--last-seen-resolution", "86401"], "--last-seen-resolution must be 0–86400 seconds"),
    ])
    func badOptionsStopTheStartAndCreateNothing(options: [String], says: String) async throws {
        let directory = try TemporaryDirectory("serve-options")
        let result = try await OTACLI.run(["serve", "--data-dir", directory.path("data")] + options)
        #expect(result.status != 0 && result.stderr.contains(says), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory.path("data")))
    }

    /// Instances sharing a machine are given their share of its cores (docs/deploy.md): the shared event loop group,
    /// which carries the gateway, the API and PostgreSQL, then starts that many threads instead of one per core.
    @Test func eventLoopsSetsTheNetworkThreads() async throws {
        let service = try await ServiceProcess(options: ["--event-loops", "1"])
        defer { service.stop() }
        let loops = service.process.threadNames.filter { $0.hasPrefix("NIO-SGLTN-") && $0.contains("-#") }
        #expect(loops.count == 1, "\(service.process.threadNames)")
        try await service.cli(["things", "create", "dev-1"])  // and it serves
    }

    @Test func errorsAreReadableAndExitNonZero() async throws {
        let service = try await ServiceProcess()
        defer { service.stop() }
        let server = ["--server", "https://localhost:\(service.apiPort)"]
        let missing = try await OTACLI.run(["things", "show", "ghost", "--data-dir", service.dataDir] + server)
        #expect(missing.status != 0 && missing.stderr.contains("404 Not Found: not found: thing ghost"))
        let noToken = try await OTACLI.run(["things", "list"] + server)
        #expect(noToken.status != 0 && noToken.stderr.contains("--data-dir"))
        let wrongToken = try service.directory.write("wrong-token", text: String(repeating: "ab", count: 32))
        chmod(wrongToken, 0o600)
        let refused = try await OTACLI.run(
            ["things", "list", "--token-file", wrongToken, "--ca", service.dataDir + "/pki/ca.pem"] + server)
        #expect(refused.status != 0 && refused.stderr.contains("401"))
        let notAnImage = try service.directory.write("notes.txt", text: "hello")
        let upload = try await OTACLI.run(["files", "upload", notAnImage, "--data-dir", service.dataDir] + server)
        #expect(upload.status != 0 && upload.stderr.contains("not a valid ESP32 app image"))
        await #expect(try service.json(["files", "list"]) as? [Any] != nil)
        await #expect((try service.json(["files", "list"]) as? [Any])?.isEmpty == true)
    }
}
