import CodeSigning
import Crypto
import ESP32Formats
import Foundation
import OTAService
import OTAWire
import S3
import TestSupport
import Testing

// The service with its files in a bucket of a real S3-protocol server (moto), cross-checked with the AWS CLI:
// what the service stores the CLI reads back byte for byte; what the CLI put, the service imports and delivers;
// an object changed behind its back is refused; a missing bucket, refused credentials or an unreachable endpoint
// stop the start with a clear error.
@Suite(.serialized) struct S3FileStoreTests {
    static let bucket = "swiftota-firmware"

    /// moto with a bucket, and a service whose file store is `s3://bucket/fw` on it. moto checks every request's
    /// signature when `authenticating` (then it cannot answer presigned URLs: the HTTP delivery test goes without).
    static func withService(
        authenticating: Bool = true, configure: @escaping (inout OTAServerConfiguration) -> Void = { _ in },
        _ body: (ServiceHarness, MotoServer) async throws -> Void
    ) async throws {
        let moto = try await MotoServer.start(authenticating: authenticating)
        defer { moto.stop() }
        let made = try await moto.aws(["s3", "mb", "s3://\(bucket)"])
        #expect(made.status == 0, "\(made.stderr)")
        let store = S3FileStore(
            client: S3Client(
                endpoint: try S3Endpoint(url: moto.endpointURL, region: "us-east-1", pathStyle: true),
                credentials: S3Credentials(accessKeyID: moto.accessKeyID, secretAccessKey: moto.secretAccessKey)),
            location: try S3Location(bucket: bucket, prefix: "fw"))
        let service = try await ServiceHarness { configuration in
            configuration.fileStore = store
            configure(&configuration)
        }
        defer { Task { await service.shutdown() } }
        do { try await body(service, moto) } catch {
            Issue.record("moto's log, last lines:\n\(moto.output.suffix(3000))")
            throw error
        }
    }

    @Test func whatTheServiceStoresTheAWSCLIReadsBackByteIdentical() async throws {
        try await Self.withService { service, moto in
            let (file, image) = try await service.uploadFirmware(version: "2.0.0", payloadSize: 300_000)
            #expect(file.location == "s3://\(Self.bucket)/fw/\(file.id)" && file.etag != nil)
            let out = try TemporaryDirectory("aws-out")
            let copied = try await moto.aws(["s3", "cp", file.location!, out.path("copy.bin")])
            #expect(copied.status == 0, "\(copied.stderr)")
            #expect(FileManager.default.contents(atPath: out.path("copy.bin")).map(Array.init) == image)
            // The same content again is the same object and the same record.
            let again = try await service.server.updates.upload(image, name: "again.bin", kind: .app)
            #expect(again == file)
        }
    }

    @Test func anObjectTheAWSCLIPutIsImportedWithoutChangeAndSignedForAnUpdate() async throws {
        try await Self.withService { service, moto in
            let directory = try TemporaryDirectory("aws-in")
            let image = try Self.app("3.1.0", size: 200_000)
            try Data(image).write(to: URL(fileURLWithPath: directory.path("app.bin")))
            let put = try await moto.aws(["s3", "cp", directory.path("app.bin"), "s3://\(Self.bucket)/ci/app.bin"])
            #expect(put.status == 0, "\(put.stderr)")

            let file = try await service.server.updates.importObject(
                "s3://\(Self.bucket)/ci/app.bin", name: nil, kind: .app)
            #expect(file.id == hexString(SHA256.hash(data: image)) && file.version == "3.1.0")
            // Stored beside the uploads, content-addressed: the next build overwriting ci/app.bin changes nothing.
            #expect(file.name == "app.bin" && file.location == "s3://\(Self.bucket)/fw/\(file.id)")
            _ = try await service.server.registry.createThing("dev", attributes: [:])
            let update = try await service.createUpdate("ci", file: file, things: ["dev"])
            let signature = try CodeSignature(der: try #require(Base64.decode(update.signature)))
            try CodeSigner.verify(image, signature: signature, publicKey: service.signingKey.publicKey)
            let listing = try await moto.aws(["s3", "ls", "--recursive", "s3://\(Self.bucket)/"])
            #expect(listing.stdout.split(separator: "\n").count == 2, "\(listing.stdout)")
        }
    }

    @Test func aThousandDevicesOnOneImageCostOneRangedGETPerMiBOfIt() async throws {
        try await Self.withService { service, moto in
            let (file, image) = try await service.uploadFirmware(version: "2.0.0", payloadSize: 2_600_000)
            let key = try #require(file.location?.dropFirst("s3://".count))
            let before = moto.output.components(separatedBy: "GET /\(key)").count
            // A cache of its own, empty, as after a restart; a thousand devices asking at the same moment.
            let cache = FileContentCache(store: service.server.files.store)
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<1000 { group.addTask { try await cache.contents(of: file) == image } }
                for try await same in group { #expect(same) }
            }
            // moto logs each request as it answers it: its log catches up within moments.
            let chunks = (image.count + (1 << 20) - 1) >> 20
            let gets = { moto.output.components(separatedBy: "GET /\(key)").count - before }
            #expect(await eventually { gets() == chunks }, "moto saw \(gets()) GETs of the object, not \(chunks)")
        }
    }

    @Test func anObjectChangedBehindTheServicesBackIsNeverServed() async throws {
        // No cache to speak of: every delivery reads the bucket again, as after a restart.
        try await Self.withService(configure: { $0.fileCacheBytes = 1024 }) { service, moto in
            let directory = try TemporaryDirectory("aws-in")
            try Data(try Self.app("3.1.0", size: 50_000)).write(to: URL(fileURLWithPath: directory.path("a.bin")))
            try Data(try Self.app("6.6.6", size: 50_000)).write(to: URL(fileURLWithPath: directory.path("b.bin")))
            _ = try await moto.aws(["s3", "cp", directory.path("a.bin"), "s3://\(Self.bucket)/ci/app.bin"])
            let file = try await service.server.updates.importObject(
                "s3://\(Self.bucket)/ci/app.bin", name: nil, kind: .app)
            // The next build overwrites the CI path: the stored copy still serves the imported bytes.
            _ = try await moto.aws(["s3", "cp", directory.path("b.bin"), "s3://\(Self.bucket)/ci/app.bin"])
            #expect(try await service.server.files.contents(of: file).count == Int(file.size))
            // Someone with write access to the bucket replaces the stored copy itself: refused, never served.
            let stored = try #require(file.location)
            _ = try await moto.aws(["s3", "cp", directory.path("b.bin"), stored])
            let fresh = FileContentCache(store: service.server.files.store)
            await #expect {
                _ = try await fresh.contents(of: file)
            } throws: { error in
                "\(error)".contains("changed since file \(file.id) was registered")
            }
        }
    }

    @Test func importsOfWhatIsNotThereOrNotAnAppAreRefusedAndRegisterNothing() async throws {
        try await Self.withService { service, moto in
            let directory = try TemporaryDirectory("aws-in")
            try Data(repeating: 0x41, count: 5000).write(to: URL(fileURLWithPath: directory.path("junk.bin")))
            _ = try await moto.aws(["s3", "cp", directory.path("junk.bin"), "s3://\(Self.bucket)/ci/junk.bin"])
            let updates = service.server.updates
            for (url, kind) in [
                ("s3://\(Self.bucket)/ci/missing.bin", FileKind.app), ("s3://another-bucket/x.bin", .app),
                ("s3://\(Self.bucket)/ci/junk.bin", .app), ("s3://\(Self.bucket)/ci/", .data), ("http://x/y", .data),
                ("s3://UPPER/x", .data),
            ] {
                await #expect(throws: OTAServiceError.self, "\(url)") {
                    _ = try await updates.importObject(url, name: nil, kind: kind)
                }
            }
            #expect(try await service.server.store.read { try $0.files() }.isEmpty)
        }
    }

    @Test func aMissingBucketRefusedCredentialsOrAnUnreachableEndpointStopTheStart() async throws {
        let moto = try await MotoServer.start(authenticating: true)
        defer { moto.stop() }
        _ = try await moto.aws(["s3", "mb", "s3://\(Self.bucket)"])
        let closedPort = try freeLoopbackPort()
        let cases: [(endpoint: String, bucket: String, secret: String, says: String)] = [
            (moto.endpointURL, "not-there", moto.secretAccessKey, "does not exist"),
            (moto.endpointURL, Self.bucket, "wrong-secret", "credentials"),
            ("http://127.0.0.1:\(closedPort)", Self.bucket, moto.secretAccessKey, "unreachable"),
        ]
        for (endpoint, bucket, secret, says) in cases {
            let directory = try TemporaryDirectory("s3-start")
            var configuration = OTAServerConfiguration(dataDirectory: directory.path("data"))
            configuration.mqttPort = 0
            configuration.apiPort = 0
            configuration.fileStore = S3FileStore(
                client: S3Client(
                    endpoint: try S3Endpoint(url: endpoint, region: "us-east-1", pathStyle: true),
                    credentials: S3Credentials(accessKeyID: moto.accessKeyID, secretAccessKey: secret)),
                location: try S3Location(bucket: bucket))
            let server = try OTAServer(configuration: configuration)
            await #expect("\(endpoint) \(bucket)") {
                try await server.start()
            } throws: { error in
                "\(error)".contains(says)
            }
            #expect(server.mqttPort == nil && server.apiPort == nil)
            await server.stop()
        }
    }

    static func app(_ version: String, size: Int) throws -> [UInt8] {
        var generator = SeededGenerator(seed: UInt64(size))
        let payload = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return try AppImageBuilder.application(
            descriptor: AppDescriptor(
                version: version, projectName: "ci-fw", appELFSHA256: Array(SHA256.hash(data: payload))),
            payload: payload)
    }
}
