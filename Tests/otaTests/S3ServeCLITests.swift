import Foundation
import TestSupport
import Testing

// `ota serve --file-store s3://…` as an operator runs it, against moto, with credentials in the environment as the
// AWS CLI takes them: uploads land in the bucket where the AWS CLI reads them back; what the AWS CLI put,
// `ota files import` registers; a bucket that does not exist or refused credentials stop the start with a clear
// message.
@Suite(.serialized) struct S3ServeCLITests {
    /// This process's environment without AWS settings, plus moto's keys and nowhere to find others.
    static func environment(_ moto: MotoServer, secret: String? = nil) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("AWS_") }
        environment["AWS_ACCESS_KEY_ID"] = moto.accessKeyID
        environment["AWS_SECRET_ACCESS_KEY"] = secret ?? moto.secretAccessKey
        environment["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent/credentials"
        environment["AWS_CONFIG_FILE"] = "/nonexistent/config"
        return environment
    }

    /// A local command (no service), requiring success.
    static func build(_ arguments: [String]) async throws {
        let result = try await OTACLI.run(arguments)
        #expect(result.status == 0, "\(result.stderr)")
    }

    @Test func uploadsLandInTheBucketAndObjectsAlreadyThereAreImported() async throws {
        let moto = try await MotoServer.start()
        defer { moto.stop() }
        #expect(try await moto.aws(["s3", "mb", "s3://ota-files"]).status == 0)
        let service = try await ServiceProcess(
            options: ["--file-store", "s3://ota-files/fw", "--s3-endpoint", moto.endpointURL],
            environment: Self.environment(moto))
        defer { service.stop() }
        let work = try TemporaryDirectory("s3-cli")
        try Data(repeating: 7, count: 5000).write(to: URL(fileURLWithPath: work.path("fw.bin")))
        try await Self.build([
            "image", "build", "--project", "ci", "--version", "4.2.0", "--payload", work.path("fw.bin"),
            "-o", work.path("app.bin"),
        ])
        let uploaded = try await #require(
            try service.json(["files", "upload", work.path("app.bin")]) as? [String: Any])
        let location = try #require(uploaded["location"] as? String)
        #expect(location.hasPrefix("s3://ota-files/fw/"))
        #expect(try await moto.aws(["s3", "cp", location, work.path("back.bin")]).status == 0)
        #expect(
            FileManager.default.contents(atPath: work.path("back.bin"))
                == FileManager.default.contents(
                    atPath: work.path("app.bin")))

        try await Self.build([
            "image", "build", "--project", "ci", "--version", "4.3.0", "--payload", work.path("fw.bin"),
            "-o", work.path("next.bin"),
        ])
        #expect(try await moto.aws(["s3", "cp", work.path("next.bin"), "s3://ota-files/ci/next.bin"]).status == 0)
        let imported = try await #require(
            try service.json(["files", "import", "s3://ota-files/ci/next.bin"]) as? [String: Any])
        #expect(
            imported["version"] as? String == "4.3.0"
                && (imported["location"] as? String)?.hasPrefix("s3://ota-files/fw/") == true
        )
        let missing = try await OTACLI.run(
            [
                "files", "import", "s3://ota-files/ci/none.bin", "--server", "https://localhost:\(service.apiPort)",
                "--data-dir", service.dataDir,
            ])
        #expect(missing.status != 0 && missing.stderr.contains("does not exist"), "\(missing.stderr)")
        let status = try await #require(try service.json(["files", "list"]) as? [[String: Any]])
        #expect(status.count == 2)
    }

    @Test func aMissingBucketOrRefusedCredentialsStopTheStartWithAClearMessage() async throws {
        let moto = try await MotoServer.start()
        defer { moto.stop() }
        #expect(try await moto.aws(["s3", "mb", "s3://ota-files"]).status == 0)
        let directory = try TemporaryDirectory("s3-start")
        for (bucket, secret, says) in [
            ("not-made", moto.secretAccessKey, "does not exist"), ("ota-files", "wrong", "SignatureDoesNotMatch"),
        ] {
            let result = try await ExternalTools.run(
                try OTACLI.executable,
                [
                    "serve", "--data-dir", directory.path("data-\(bucket)"), "--host", "127.0.0.1", "--mqtt-port", "0",
                    "--api-port", "0", "--file-store", "s3://\(bucket)", "--s3-endpoint", moto.endpointURL,
                ],
                environment: Self.environment(moto, secret: secret))
            #expect(result.status != 0 && result.stderr.contains(says), "\(result.stderr)")
            #expect(!result.stderr.contains(moto.secretAccessKey))
        }
        let noCredentials = try await ExternalTools.run(
            try OTACLI.executable,
            ["serve", "--data-dir", directory.path("data-none"), "--file-store", "s3://ota-files"],
            environment: ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("AWS_") }.merging(
                ["AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/c", "AWS_CONFIG_FILE": "/nonexistent/f"]) { $1 })
        #expect(noCredentials.status != 0 && noCredentials.stderr.contains("AWS_ACCESS_KEY_ID"))
    }
}
