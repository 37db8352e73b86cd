import AsyncHTTPClient
import Foundation
import S3
import TestSupport
import Testing

/// Presigned GET URLs. moto answers presigned requests only with its authentication off (with it on it fails them
/// with a 500), and it never checks their signature or expiry; so the URL is checked twice over: byte for byte
/// against the AWS CLI's (botocore's) presigned URL for the same instant, and fetched from moto without credentials.
/// That an expired URL is refused with a 403 cannot be shown against moto.
@Suite struct MotoPresignTests {
    @Test func aPresignedURLFetchesTheObjectWithAPlainClient() async throws {
        try await withMoto(authenticating: false) { server in
            try await server.createBucket("downloads")
            let client = try server.client()
            let key = "fleet a/v1+2 ü~.bin"
            let bytes = testBytes(3000, seed: 4)
            try await client.putObject(bucket: "downloads", key: key, bytes: bytes)
            let url = try client.presignedGetURL(bucket: "downloads", key: key, expiresIn: 300)
            #expect(url.hasPrefix("\(server.endpointURL)/downloads/fleet%20a/v1%2B2%20%C3%BC~.bin?X-Amz-Algorithm="))
            // No credentials and no signing: what a device or a browser would do with the URL.
            let plain = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
            do {
                let response = try await plain.execute(HTTPClientRequest(url: url), timeout: .seconds(60))
                let body = try await response.body.collect(upTo: 1 << 20)
                #expect(response.status == .ok)
                #expect(Array(body.readableBytesView) == bytes)
            } catch {
                try await plain.shutdown()
                throw error
            }
            try await plain.shutdown()
            #expect(throws: S3Error.self) { try client.presignedGetURL(bucket: "downloads", key: key, expiresIn: 0) }
            #expect(throws: S3Error.self) {
                try client.presignedGetURL(bucket: "downloads", key: key, expiresIn: 604_801)
            }
        }
    }

    @Test func thePresignedURLIsTheOneTheAWSCLIMakes() async throws {
        try await withMoto(authenticating: false) { server in
            let client = try server.client()
            for (key, expiry) in [("test.txt", 86_400), ("a b+c/ü~x.txt", 60), ("deep//path/(1).bin", 604_800)] {
                let cli = try await server.aws([
                    "s3", "presign", "s3://examplebucket/\(key)", "--expires-in", "\(expiry)",
                ])
                #expect(cli.status == 0, "\(cli.stderr)")
                let theirs = cli.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                // Sign at the instant the CLI signed at, read back from its X-Amz-Date.
                guard let stamp = theirs.range(of: "X-Amz-Date=").map({ String(theirs[$0.upperBound...].prefix(16)) }),
                    let instant = Self.date(fromAmzDate: stamp)
                else {
                    Issue.record("no X-Amz-Date in \(theirs)")
                    continue
                }
                let ours = try client.presignedGetURL(
                    bucket: "examplebucket", key: key, expiresIn: expiry, now: instant)
                #expect(ours == theirs)
            }
        }
    }

    static func date(fromAmzDate stamp: String) -> Date? {
        var components = DateComponents()
        let digits = Array(stamp.utf8)
        guard digits.count == 16 else { return nil }
        func number(_ range: Range<Int>) -> Int? { Int(String(decoding: digits[range], as: UTF8.self)) }
        components.year = number(0..<4)
        components.month = number(4..<6)
        components.day = number(6..<8)
        components.hour = number(9..<11)
        components.minute = number(11..<13)
        components.second = number(13..<15)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.date(from: components)
    }
}
