import AsyncHTTPClient
import NIOHTTP1
import Testing

@testable import S3

/// How answers S3 gives become typed errors, without a server: the status, S3's `<Code>`, and the headers a HEAD
/// answer has instead of a body.
@Suite struct S3ClientFailureTests {
    let client: S3Client

    init() throws {
        client = S3Client(
            endpoint: try S3Endpoint(url: "http://127.0.0.1:9", region: "us-east-1"),
            credentials: S3Credentials(accessKeyID: "AKID", secretAccessKey: "secret"))
    }

    func failure(_ status: HTTPResponseStatus, _ xml: String = "", headers: HTTPHeaders = [:], key: String? = "k")
        -> S3Error
    {
        let response = HTTPClientResponse(status: status, headers: headers)
        return client.failure(response, body: Array(xml.utf8), bucket: "b", key: key)
    }

    func error(_ code: String, _ message: String = "m") -> String {
        "<?xml version=\"1.0\"?><Error><Code>\(code)</Code><Message>\(message)</Message></Error>"
    }

    @Test func s3CodesMapToTheirCases() {
        #expect(failure(.notFound, error("NoSuchBucket")) == .noSuchBucket("b"))
        #expect(failure(.notFound, error("NoSuchKey")) == .noSuchKey("k"))
        #expect(failure(.preconditionFailed, error("PreconditionFailed")) == .preconditionFailed("k"))
        #expect(failure(.forbidden, error("AccessDenied", "no")) == .accessDenied(code: "AccessDenied", message: "no"))
        #expect(
            failure(.forbidden, error("InvalidAccessKeyId", "who"))
                == .invalidCredentials(code: "InvalidAccessKeyId", message: "who"))
        #expect(
            failure(.forbidden, error("SignatureDoesNotMatch", "sig"))
                == .invalidCredentials(code: "SignatureDoesNotMatch", message: "sig"))
        #expect(
            failure(.badRequest, error("ExpiredToken")) == .invalidCredentials(code: "ExpiredToken", message: "m"))
        #expect(
            failure(.internalServerError, error("InternalError", "try again"))
                == .badResponse(status: 500, code: "InternalError", message: "try again"))
    }

    @Test func bodilessAnswersMapByStatus() {
        #expect(failure(.notFound) == .noSuchKey("k"))
        #expect(failure(.notFound, key: nil) == .noSuchBucket("b"))
        #expect(failure(.preconditionFailed) == .preconditionFailed("k"))
        #expect(failure(.forbidden) == .accessDenied(code: "Forbidden", message: "HTTP 403 without an error body"))
        #expect(
            failure(.badGateway, "<html>bad gateway</html>")
                == .badResponse(
                    status: 502, code: "HTTP502", message: "Bad Gateway; no S3 error body (24 bytes of something else)")
        )
    }

    @Test func aWrongRegionIsNamed() {
        let moved = failure(.movedPermanently, headers: ["x-amz-bucket-region": "eu-west-1"], key: nil)
        #expect(
            moved
                == .badResponse(
                    status: 301, code: "HTTP301",
                    message: "Moved Permanently; no S3 error body (the bucket is in eu-west-1; the client signs for "
                        + "us-east-1)"))
        let redirect = failure(
            .movedPermanently, error("PermanentRedirect", "use the right endpoint"),
            headers: ["x-amz-bucket-region": "eu-west-1"])
        guard case .badResponse(301, "PermanentRedirect", let message) = redirect else {
            Issue.record("unexpected \(redirect)")
            return
        }
        #expect(message.hasSuffix("(the bucket is in eu-west-1; the client signs for us-east-1)"))
    }

    @Test func etagsAreKeptUnquotedAndSentQuoted() {
        #expect(S3Client.unquotedETag("\"abc-2\"") == "abc-2")
        #expect(S3Client.unquotedETag("W/\"abc\"") == "abc")
        #expect(S3Client.unquotedETag("abc") == "abc")
        #expect(S3Client.quotedETag("abc") == "\"abc\"")
        #expect(S3Client.quotedETag("\"abc\"") == "\"abc\"")
    }

    @Test func partsGrowWhenTenThousandWouldNotHoldTheObject() {
        let client = S3Client(
            endpoint: self.client.endpoint, credentials: S3Credentials(accessKeyID: "AKID", secretAccessKey: "secret"),
            partSize: 1)
        #expect(client.partSize == 5 << 20)
        #expect(client.effectivePartSize(for: 1 << 30) == 5 << 20)
        #expect(client.effectivePartSize(for: 100_000 << 20) == 10 << 20)
        let huge = S3Client(
            endpoint: client.endpoint, credentials: S3Credentials(accessKeyID: "a", secretAccessKey: "s"),
            multipartThreshold: -5, requestTimeout: .seconds(Int64.max))
        #expect(huge.multipartThreshold == 1)
    }
}
