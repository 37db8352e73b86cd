import Foundation
import TestSupport
import Testing

@testable import S3

@Suite struct S3CredentialsTests {
    /// A home directory of the test's own, so the machine's ~/.aws never leaks in.
    func home(credentials: String? = nil, config: String? = nil) throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory("s3-credentials")
        try FileManager.default.createDirectory(atPath: directory.path(".aws"), withIntermediateDirectories: true)
        if let credentials { try directory.write(".aws/credentials", text: credentials) }
        if let config { try directory.write(".aws/config", text: config) }
        return directory
    }

    @Test func theEnvironmentComesFirst() throws {
        let home = try home(credentials: "[default]\naws_access_key_id = FILE\naws_secret_access_key = file\n")
        let found = try S3Credentials.resolve(environment: [
            "HOME": home.url.path, "AWS_ACCESS_KEY_ID": "ENV", "AWS_SECRET_ACCESS_KEY": "env",
            "AWS_SESSION_TOKEN": "tok",
        ])
        #expect(found == S3Credentials(accessKeyID: "ENV", secretAccessKey: "env", sessionToken: "tok"))
    }

    @Test func anExplicitProfileSkipsTheEnvironmentAsAwsProfileDoes() throws {
        let home = try home(credentials: "[ci]\naws_access_key_id = CI\naws_secret_access_key = ci\n")
        let found = try S3Credentials.resolve(
            environment: ["HOME": home.url.path, "AWS_ACCESS_KEY_ID": "ENV", "AWS_SECRET_ACCESS_KEY": "env"],
            profile: "ci")
        #expect(found == S3Credentials(accessKeyID: "CI", secretAccessKey: "ci"))
    }

    @Test func theCredentialsFileSectionOfTheProfile() throws {
        let home = try home(
            credentials: """
                # comment
                [default]
                aws_access_key_id=DEFAULT
                aws_secret_access_key=default

                [staging]
                AWS_ACCESS_KEY_ID = STAGING
                aws_secret_access_key = st/ag+ing=
                aws_session_token = token
                s3 =
                    aws_access_key_id = NESTED-NOT-TOP-LEVEL
                """)
        #expect(
            try S3Credentials.resolve(environment: ["HOME": home.url.path])
                == S3Credentials(accessKeyID: "DEFAULT", secretAccessKey: "default"))
        #expect(
            try S3Credentials.resolve(environment: ["HOME": home.url.path, "AWS_PROFILE": "staging"])
                == S3Credentials(accessKeyID: "STAGING", secretAccessKey: "st/ag+ing=", sessionToken: "token"))
    }

    @Test func theConfigFileProfileSectionAndMovedFiles() throws {
        let directory = try TemporaryDirectory("s3-credentials")
        let config = try directory.write(
            "cfg",
            text: "[default]\nregion = eu-west-1\n[profile ops]\naws_access_key_id = OPS\n"
                + "aws_secret_access_key = ops\nregion = ap-south-1\n")
        let environment = [
            "HOME": "/nonexistent", "AWS_CONFIG_FILE": config, "AWS_SHARED_CREDENTIALS_FILE": directory.path("none"),
        ]
        #expect(
            try S3Credentials.resolve(environment: environment, profile: "ops")
                == S3Credentials(accessKeyID: "OPS", secretAccessKey: "ops"))
        #expect(try S3Endpoint.resolveRegion(environment: environment, profile: "ops") == "ap-south-1")
        #expect(try S3Endpoint.resolveRegion(environment: environment) == "eu-west-1")
        #expect(
            try S3Endpoint.resolveRegion(environment: environment.merging(["AWS_DEFAULT_REGION": "us-west-2"]) { $1 })
                == "us-west-2")
        #expect(
            try S3Endpoint.resolveRegion(
                environment: environment.merging(["AWS_DEFAULT_REGION": "us-west-2", "AWS_REGION": "sa-east-1"]) { $1 })
                == "sa-east-1")
        #expect(try S3Endpoint.resolveRegion(environment: ["HOME": "/nonexistent"]) == "us-east-1")
    }

    @Test func missingOrPartialCredentialsAreTypedErrors() throws {
        let home = try home(credentials: "[half]\naws_access_key_id = HALF\n")
        #expect(throws: S3Error.self) { try S3Credentials.resolve(environment: ["HOME": home.url.path]) }
        #expect(throws: S3Error.self) {
            try S3Credentials.resolve(environment: ["HOME": home.url.path, "AWS_ACCESS_KEY_ID": "ONLY"])
        }
        #expect(throws: S3Error.self) {
            try S3Credentials.resolve(environment: ["HOME": home.url.path, "AWS_PROFILE": "half"])
        }
        do throws(S3Error) {
            _ = try S3Credentials.resolve(environment: ["HOME": home.url.path], profile: "absent")
            Issue.record("an absent profile resolved")
        } catch {
            guard case .missingCredentials(let why) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(why.contains("profile 'absent'"))
        }
    }

    @Test func descriptionsHideTheSecretAndToken() {
        let credentials = S3Credentials(
            accessKeyID: "AKIDVISIBLE", secretAccessKey: "SECRET123", sessionToken: "TOK456")
        for text in [credentials.description, String(reflecting: credentials), "\(credentials)"] {
            #expect(text.contains("AKIDVISIBLE"))
            #expect(!text.contains("SECRET123"))
            #expect(!text.contains("TOK456"))
        }
    }
}
