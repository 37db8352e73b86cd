import AsyncHTTPClient
import Crypto
import Foundation
import S3
import TestSupport
import Testing

/// The client against moto's S3 with request authentication on: every request below had its SigV4 signature
/// recomputed and compared by the server.
@Suite struct MotoObjectTests {
    @Test func putHeadGetRangeConditionAndDelete() async throws {
        try await withMoto { server in
            try await server.createBucket("firmware")
            let client = try server.client()
            try await client.headBucket("firmware")
            // A key that needs every kind of encoding: spaces, '+', non-ASCII, '~', reserved characters, '//'.
            let key = "fleet a/v1+2 ü~(x)=&$@;,//image.bin"
            let bytes = testBytes(100_000, seed: 1)

            let stored = try await client.putObject(bucket: "firmware", key: key, bytes: bytes)
            #expect(stored.size == 100_000)
            #expect(stored.etag == Insecure.MD5.hash(data: bytes).map { String(format: "%02x", $0) }.joined())
            #expect(try await client.headObject(bucket: "firmware", key: key) == stored)
            #expect(try await client.getObject(bucket: "firmware", key: key) == bytes)

            // Ranged reads: exact bytes, inclusive bounds, a range running past the end.
            #expect(try await client.getObject(bucket: "firmware", key: key, range: 10...19) == Array(bytes[10...19]))
            #expect(try await client.getObject(bucket: "firmware", key: key, range: 0...0) == [bytes[0]])
            #expect(
                try await client.getObject(bucket: "firmware", key: key, range: 99_990...200_000)
                    == Array(bytes[99_990...]))
            let raw = try await server.signedRequest(.GET, "/firmware/" + key, headers: [("Range", "bytes=10-19")])
            #expect(raw.status == 206)
            #expect(raw.body == Array(bytes[10...19]))

            // If-Match: the current ETag (quoted or not) reads; any other is a typed precondition failure.
            #expect(try await client.getObject(bucket: "firmware", key: key, ifMatch: stored.etag) == bytes)
            #expect(try await client.getObject(bucket: "firmware", key: key, ifMatch: "\"\(stored.etag)\"") == bytes)
            await #expect(throws: S3Error.preconditionFailed(key)) {
                try await client.getObject(bucket: "firmware", key: key, ifMatch: "0123456789abcdef0123456789abcdef")
            }
            await #expect(throws: S3Error.preconditionFailed(key)) {
                try await client.getObject(bucket: "firmware", key: key, range: 0...9, ifMatch: "stale")
            }
            await #expect(throws: S3Error.preconditionFailed(key)) {
                try await client.getObjectChunks(bucket: "firmware", key: key, ifMatch: "stale") { _ in }
            }

            // Streamed: the chunks add up to the object.
            var streamed = SHA256()
            var count = 0
            let info = try await client.getObjectChunks(bucket: "firmware", key: key, ifMatch: stored.etag) { chunk in
                streamed.update(data: Array(chunk))
                count += chunk.count
            }
            #expect(info == stored)
            #expect(count == bytes.count)
            #expect(Array(streamed.finalize()) == Array(SHA256.hash(data: bytes)))

            // A consumer that gives up stops the download with a typed error.
            struct Full: Error {}
            await #expect(throws: S3Error.consumerFailed("Full()")) {
                try await client.getObjectChunks(bucket: "firmware", key: key) { _ in throw Full() }
            }

            // Empty objects exist too.
            let empty = try await client.putObject(bucket: "firmware", key: "empty", bytes: [])
            #expect(empty.size == 0)
            #expect(try await client.getObject(bucket: "firmware", key: "empty") == [])

            try await client.deleteObject(bucket: "firmware", key: key)
            try await client.deleteObject(bucket: "firmware", key: key)  // absent: still fine, as in S3
            await #expect(throws: S3Error.noSuchKey(key)) { try await client.headObject(bucket: "firmware", key: key) }
            await #expect(throws: S3Error.noSuchKey(key)) { try await client.getObject(bucket: "firmware", key: key) }
            await #expect(throws: S3Error.noSuchKey(key)) {
                try await client.getObjectChunks(bucket: "firmware", key: key) { _ in }
            }
        }
    }

    @Test func multipartAboveTheThreshold() async throws {
        try await withMoto { server in
            try await server.createBucket("images")
            // S3 (and moto) refuse parts under 5 MiB but the last: 5 MiB parts, a threshold of 6 MiB.
            let client = try server.client(multipartThreshold: 6 << 20, partSize: 5 << 20)
            let bytes = testBytes((11 << 20) + 3, seed: 2)
            let stored = try await client.putObject(bucket: "images", key: "big/image.bin", bytes: bytes)
            #expect(stored.size == Int64(bytes.count))
            #expect(stored.etag.hasSuffix("-3"), "three parts: 5 MiB, 5 MiB, 1 MiB + 3 bytes; got \(stored.etag)")
            #expect(try await client.headObject(bucket: "images", key: "big/image.bin") == stored)
            #expect(try await client.getObject(bucket: "images", key: "big/image.bin") == bytes)
            let boundary = Int64(5 << 20)
            #expect(
                try await client.getObject(
                    bucket: "images", key: "big/image.bin", range: (boundary - 2)...(boundary + 1))
                    == Array(bytes[Int(boundary - 2)...Int(boundary + 1)]))
            var hash = SHA256()
            let info = try await client.getObjectChunks(bucket: "images", key: "big/image.bin", ifMatch: stored.etag) {
                hash.update(data: Array($0))
            }
            #expect(info == stored)
            #expect(Array(hash.finalize()) == Array(SHA256.hash(data: bytes)))

            // Just under the threshold: one PUT, a plain MD5 ETag.
            let small = testBytes((6 << 20) - 1, seed: 3)
            let single = try await client.putObject(bucket: "images", key: "small.bin", bytes: small)
            #expect(!single.etag.contains("-"))
            #expect(try await client.getObject(bucket: "images", key: "small.bin") == small)

            // Nothing left half-uploaded.
            let uploads = try await server.aws(["s3api", "list-multipart-uploads", "--bucket", "images"])
            #expect(uploads.status == 0, "\(uploads.stderr)")
            #expect(!uploads.stdout.contains("UploadId"), "\(uploads.stdout)")
        }
    }

    /// A multipart upload that fails is aborted. moto is told to want parts of at least 6 MiB, so the client's
    /// 5 MiB parts are refused when the upload is completed (EntityTooSmall, as S3 refuses parts under 5 MiB).
    @Test func aFailedMultipartUploadIsAborted() async throws {
        try await withMoto(settings: ["S3_UPLOAD_PART_MIN_SIZE": String(6 << 20)]) { server in
            try await server.createBucket("strict")
            let client = try server.client(multipartThreshold: 6 << 20, partSize: 5 << 20)
            do throws(S3Error) {
                try await client.putObject(bucket: "strict", key: "refused.bin", bytes: testBytes(11 << 20, seed: 9))
                Issue.record("moto accepted parts below the minimum it was given")
            } catch {
                guard case .badResponse(status: 400, code: "EntityTooSmall", _) = error else {
                    Issue.record("unexpected \(error)")
                    return
                }
            }
            let uploads = try await server.aws(["s3api", "list-multipart-uploads", "--bucket", "strict"])
            #expect(uploads.status == 0, "\(uploads.stderr)")
            #expect(!uploads.stdout.contains("UploadId"), "the failed upload was left behind: \(uploads.stdout)")
            await #expect(throws: S3Error.noSuchKey("refused.bin")) {
                try await client.headObject(bucket: "strict", key: "refused.bin")
            }
        }
    }

    @Test func errorsAreTypedAndKeepSecretsOut() async throws {
        try await withMoto { server in
            try await server.createBucket("present")
            let client = try server.client()
            try await client.putObject(bucket: "present", key: "k", bytes: [1, 2, 3])

            await #expect(throws: S3Error.noSuchBucket("absent")) { try await client.headBucket("absent") }
            await #expect(throws: S3Error.noSuchBucket("absent")) {
                try await client.putObject(bucket: "absent", key: "k", bytes: [1])
            }
            await #expect(throws: S3Error.noSuchBucket("absent")) {
                try await client.getObject(bucket: "absent", key: "k")
            }
            await #expect(throws: S3Error.noSuchBucket("absent")) {
                try await client.headObject(bucket: "absent", key: "k")
            }
            let multipart = try server.client(multipartThreshold: 1, partSize: 5 << 20)
            await #expect(throws: S3Error.noSuchBucket("absent")) {
                try await multipart.putObject(bucket: "absent", key: "k", bytes: [1])
            }

            // Bad input never reaches the server.
            await #expect(throws: S3Error.self) { try await client.getObject(bucket: "Bad_Bucket", key: "k") }
            await #expect(throws: S3Error.self) { try await client.putObject(bucket: "present", key: "", bytes: []) }
            await #expect(throws: S3Error.self) {
                try await client.getObject(bucket: "present", key: "k", range: -1...3)
            }

            // An access key moto does not know, and a known key with the wrong secret.
            let secret = "wrong-secret-\(UUID().uuidString)"
            let unknownKey = try server.client(
                credentials: S3Credentials(accessKeyID: "AKIAUNKNOWN000000000", secretAccessKey: secret))
            let wrongSecret = try server.client(
                credentials: S3Credentials(accessKeyID: server.accessKeyID, secretAccessKey: secret))
            var descriptions: [String] = []
            do throws(S3Error) {
                _ = try await unknownKey.getObject(bucket: "present", key: "k")
                Issue.record("an unknown access key was accepted")
            } catch {
                guard case .invalidCredentials(code: "InvalidAccessKeyId", _) = error else {
                    Issue.record("unexpected \(error)")
                    return
                }
                descriptions.append(error.description)
            }
            for attempt in 0..<3 {
                do throws(S3Error) {
                    switch attempt {
                    case 0: try await wrongSecret.putObject(bucket: "present", key: "k", bytes: [9])
                    case 1: _ = try await wrongSecret.headObject(bucket: "present", key: "k")
                    default: try await wrongSecret.headBucket("present")
                    }
                    Issue.record("a wrong secret was accepted (attempt \(attempt))")
                } catch {
                    // HEAD answers have no body: the client asks again with the matching GET to learn why.
                    guard case .invalidCredentials(code: "SignatureDoesNotMatch", _) = error else {
                        Issue.record("attempt \(attempt): unexpected \(error)")
                        continue
                    }
                    descriptions.append(error.description)
                }
            }
            // A session token moto never issued: sent as x-amz-security-token, and refused for what it is.
            let withToken = try server.client(
                credentials: S3Credentials(
                    accessKeyID: server.accessKeyID, secretAccessKey: server.secretAccessKey,
                    sessionToken: "never-issued-\(secret)"))
            do throws(S3Error) {
                _ = try await withToken.getObject(bucket: "present", key: "k")
                Issue.record("a session token moto never issued was accepted")
            } catch {
                guard case .invalidCredentials(code: "InvalidToken", _) = error else {
                    Issue.record("unexpected \(error)")
                    return
                }
                descriptions.append(error.description)
            }
            #expect(descriptions.count == 5)
            for description in descriptions {
                #expect(!description.contains(secret))
                #expect(!description.contains(server.secretAccessKey))
                #expect(!description.contains("Signature="))
            }
            // The failed writes changed nothing.
            #expect(try await client.getObject(bucket: "present", key: "k") == [1, 2, 3])

            // UNSIGNED-PAYLOAD is accepted for a body the signature does not cover.
            let unsigned = try await server.signedRequest(.PUT, "/present/unsigned", body: [7, 7], payload: .unsigned)
            #expect(unsigned.status == 200)
            #expect(try await client.getObject(bucket: "present", key: "unsigned") == [7, 7])
        }
    }

    @Test func anEndpointNobodyListensOnIsUnreachable() async throws {
        let port = try freeLoopbackPort()  // free a moment ago, so nothing listens there now
        let client = S3Client(
            endpoint: try S3Endpoint(url: "http://127.0.0.1:\(port)", region: "us-east-1"),
            credentials: S3Credentials(accessKeyID: "AKID", secretAccessKey: "never-shown"))
        do throws(S3Error) {
            _ = try await client.getObject(bucket: "bucket", key: "key")
            Issue.record("a closed port answered")
        } catch {
            guard case .unreachable(let endpoint, let reason) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(endpoint == "http://127.0.0.1:\(port)")
            #expect(!reason.isEmpty)
            #expect(!error.description.contains("never-shown"))
        }
    }
}
