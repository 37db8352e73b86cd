import Foundation
import RawClients

/// moto's standalone server (`moto_server`, from PyPI `moto[server]`), an S3-protocol server for the S3 client's
/// tests, on a free loopback port. With `authenticating`, moto checks every S3 request's SigV4 signature against an
/// IAM user it was given (unknown keys and wrong secrets are refused as AWS refuses them); it cannot check presigned
/// URLs then (it answers them 500), so presigned tests use a server without authentication.
///
/// A missing moto is a failure that says how to install it, never a silent skip. `stop()` (or release) ends it.
public final class MotoServer: @unchecked Sendable {
    public struct Missing: Error, CustomStringConvertible {
        public let path: String
        public var description: String {
            "moto_server is not installed (looked for \(path)): run scripts/install-test-tools, which puts "
                + "moto[server] and awscli in .venv-tools, or set OTA_TOOLS_VENV to a venv that has them"
        }
    }

    public struct StartFailed: Error, CustomStringConvertible {
        public let reason: String
        public let output: String
        public var description: String { "moto_server did not start: \(reason)\n\(output)" }
    }

    public let port: Int
    /// `http://127.0.0.1:PORT`.
    public let endpointURL: String
    /// The IAM user's key pair when authenticating; otherwise any pair works and these are placeholders.
    public let accessKeyID: String
    public let secretAccessKey: String
    public let authenticating: Bool
    private let process: BackgroundProcess
    private let scratch: TemporaryDirectory

    private init(
        port: Int, process: BackgroundProcess, scratch: TemporaryDirectory, keys: (String, String),
        authenticating: Bool
    ) {
        self.port = port
        self.endpointURL = "http://127.0.0.1:\(port)"
        self.process = process
        self.scratch = scratch
        self.accessKeyID = keys.0
        self.secretAccessKey = keys.1
        self.authenticating = authenticating
    }

    /// Starts moto, waits until it answers HTTP and, when `authenticating`, creates an IAM user allowed `s3:*` with
    /// an access key, then turns moto's request authentication on (its `/moto-api/reset-auth` with 0 requests left
    /// unauthenticated).
    /// `settings` are moto's environment variables (`S3_UPLOAD_PART_MIN_SIZE`, say), on top of this process's.
    public static func start(
        authenticating: Bool = true, settings: [String: String] = [:]
    ) async throws -> MotoServer {
        let program = ExternalTools.venv.appendingPathComponent("bin/moto_server").path
        guard FileManager.default.isExecutableFile(atPath: program) else { throw Missing(path: program) }
        var lastFailure: StartFailed?
        // A port found free can be taken before moto binds it; another one is tried then.
        for _ in 0..<3 {
            let port = try freeLoopbackPort()
            let process = try BackgroundProcess(
                program, ["-H", "127.0.0.1", "-p", String(port)],
                environment: ProcessInfo.processInfo.environment.merging(settings) { $1 })
            let answered = try await offThePool { waitForHTTP(port: port, process: process) }
            guard answered else {
                process.terminate()
                lastFailure = StartFailed(reason: "it exited or never answered on port \(port)", output: process.text)
                if process.text.contains("in use") { continue }
                throw lastFailure!
            }
            let scratch = try TemporaryDirectory("moto")
            // The AWS CLI v1 presigns with SigV2 unless told otherwise; the cross-checks compare SigV4 URLs.
            try scratch.write("aws-config", text: "[default]\ns3 =\n    signature_version = s3v4\n")
            var keys = ("moto-test-access-key", "moto-test-secret-key")
            if authenticating {
                do {
                    keys = try await createIAMUser(port: port)
                } catch {
                    process.terminate()
                    throw StartFailed(reason: "setting up its IAM user failed: \(error)", output: process.text)
                }
            }
            return MotoServer(
                port: port, process: process, scratch: scratch, keys: keys, authenticating: authenticating)
        }
        throw lastFailure ?? StartFailed(reason: "no free port", output: "")
    }

    /// Ends moto (SIGTERM, then a wait) — idempotent; release does it too.
    public func stop() { process.terminate() }

    /// What moto printed (one line per request): for failure messages.
    public var output: String { process.text }

    /// Runs `aws --endpoint-url http://127.0.0.1:PORT ARGS` with the given credentials (the server's by default)
    /// in the environment, region us-east-1, and no AWS setting of this machine's environment or home directory.
    public func aws(
        _ arguments: [String], accessKeyID: String? = nil, secretAccessKey: String? = nil
    ) async throws -> ExternalTools.Result {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("AWS_") }
        environment["AWS_ACCESS_KEY_ID"] = accessKeyID ?? self.accessKeyID
        environment["AWS_SECRET_ACCESS_KEY"] = secretAccessKey ?? self.secretAccessKey
        environment["AWS_DEFAULT_REGION"] = "us-east-1"
        environment["AWS_CONFIG_FILE"] = scratch.path("aws-config")
        environment["AWS_SHARED_CREDENTIALS_FILE"] = scratch.path("no-credentials")
        environment["AWS_EC2_METADATA_DISABLED"] = "true"
        let program = ExternalTools.venv.appendingPathComponent("bin/aws").path
        guard FileManager.default.isExecutableFile(atPath: program) else { throw Missing(path: program) }
        let full = ["--endpoint-url", endpointURL] + arguments
        let finished = environment
        return try await ExternalTools.run(program, full, environment: finished)
    }

    deinit { process.terminate() }

    /// Polls until moto answers an HTTP request (a plain GET of its API root), or it exits, or a minute passes.
    private static func waitForHTTP(port: Int, process: BackgroundProcess) -> Bool {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            guard process.isRunning else { return false }
            if answersHTTP(port: port) { return true }
            usleep(100_000)
        }
        return false
    }

    private static func answersHTTP(port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = LoopbackPort.withAddress(of: port) { connect(descriptor, $0, $1) }
        guard connected == 0 else { return false }
        let request = Array("GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        guard write(descriptor, request, request.count) == request.count else { return false }
        var buffer = [UInt8](repeating: 0, count: 16)
        let count = read(descriptor, &buffer, buffer.count)
        return count > 0 && String(decoding: buffer[0..<count], as: UTF8.self).hasPrefix("HTTP/")
    }

    /// Through moto's IAM API (boto3, from the tools venv): a user, an inline policy allowing s3:*, an access key;
    /// then authentication on. Returns the key pair.
    private static func createIAMUser(port: Int) async throws -> (String, String) {
        let script = """
            import json, sys, urllib.request
            import boto3
            endpoint = sys.argv[1]
            iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                               aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
            iam.create_user(UserName="swiftota-s3-tests")
            iam.put_user_policy(UserName="swiftota-s3-tests", PolicyName="s3-all", PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
            key = iam.create_access_key(UserName="swiftota-s3-tests")["AccessKey"]
            request = urllib.request.Request(endpoint + "/moto-api/reset-auth", data=b"0", method="POST",
                                             headers={"Content-Type": "text/plain"})
            urllib.request.urlopen(request).read()
            print(key["AccessKeyId"], key["SecretAccessKey"])
            """
        let result = try await ExternalTools.python(script, ["http://127.0.0.1:\(port)"])
        let words = result.stdout.split(whereSeparator: \.isWhitespace)
        guard words.count == 2 else {
            throw StartFailed(reason: "the IAM setup printed no key pair", output: result.stdout + result.stderr)
        }
        return (String(words[0]), String(words[1]))
    }
}
