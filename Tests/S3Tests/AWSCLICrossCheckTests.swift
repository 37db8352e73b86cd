import Foundation
import S3
import TestSupport
import Testing

/// What the client stores the AWS CLI reads back byte for byte, and the other way round — multipart uploads of
/// both included (the CLI's multipart ETags end in -N) — on moto with authentication on, so the CLI's requests are
/// checked with the same IAM user's key.
@Suite struct AWSCLICrossCheckTests {
    @Test func theClientAndTheCLIReadEachOthersObjects() async throws {
        try await withMoto { server in
            let directory = try TemporaryDirectory("s3-cli")
            let made = try await server.aws(["s3", "mb", "s3://interop"])
            #expect(made.status == 0, "\(made.stderr)")
            let client = try server.client(multipartThreshold: 6 << 20, partSize: 5 << 20)

            // The client writes, the CLI reads.
            let small = testBytes(70_001, seed: 5)
            let large = testBytes((10 << 20) + 17, seed: 6)
            try await client.putObject(bucket: "interop", key: "from-swift/small.bin", bytes: small)
            let multipart = try await client.putObject(bucket: "interop", key: "from-swift/large.bin", bytes: large)
            #expect(multipart.etag.hasSuffix("-3"))
            for (name, bytes) in [("small.bin", small), ("large.bin", large)] {
                let copied = try await server.aws(["s3", "cp", "s3://interop/from-swift/\(name)", directory.path(name)])
                #expect(copied.status == 0, "\(copied.stderr)")
                #expect(try directory.read(name) == bytes, "aws s3 cp read back \(name) differently")
            }

            // The CLI writes (above 8 MiB in 8 MiB parts: ETag "…-2"), the client reads.
            let cliSmall = try directory.write("cli-small.bin", testBytes(1234, seed: 7))
            let cliLarge = try directory.write("cli-large.bin", testBytes((9 << 20) + 5, seed: 8))
            for (file, key) in [(cliSmall, "from-cli/small.bin"), (cliLarge, "from-cli/large.bin")] {
                let copied = try await server.aws(["s3", "cp", file, "s3://interop/\(key)"])
                #expect(copied.status == 0, "\(copied.stderr)")
            }
            #expect(
                try await client.getObject(bucket: "interop", key: "from-cli/small.bin")
                    == (try directory.read("cli-small.bin")))
            let expected = try directory.read("cli-large.bin")
            let info = try await client.headObject(bucket: "interop", key: "from-cli/large.bin")
            #expect(info.size == Int64(expected.count))
            #expect(info.etag.hasSuffix("-2"), "the CLI's multipart ETag: \(info.etag)")
            #expect(
                try await client.getObject(bucket: "interop", key: "from-cli/large.bin", ifMatch: info.etag) == expected
            )
            var streamed: [UInt8] = []
            let streamedInfo = try await client.getObjectChunks(
                bucket: "interop", key: "from-cli/large.bin", ifMatch: info.etag
            ) { streamed += $0 }
            #expect(streamedInfo == info)
            #expect(streamed == expected)

            // The CLI with a wrong secret is refused as the client is: moto really checks signatures.
            let refused = try await server.aws(
                ["s3", "cp", cliSmall, "s3://interop/refused.bin"], secretAccessKey: "not-the-secret")
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("SignatureDoesNotMatch"), "\(refused.stderr)")
        }
    }
}
