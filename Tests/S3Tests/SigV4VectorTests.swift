import Foundation
import Testing

@testable import S3

/// AWS's published Signature Version 4 vectors, reproduced exactly.
///
/// 1. The SigV4 test suite (AWS General Reference, "Signature Version 4 test suite", as redistributed in aws-c-auth's
///    aws-signing-test-suite): AKIDEXAMPLE, service "service", us-east-1, 20150830T123600Z. Each expected value was
///    confirmed in several independent copies of the suite's .creq/.sts/.authz files (AWS SDK for JavaScript v3's
///    suite fixture, aws-c-auth's suite, and other signers' vendored copies) before it was written here.
/// 2. The S3 examples of "Authenticating Requests: Using the Authorization Header" and "…: Using Query Parameters"
///    (Amazon S3 API Reference): examplebucket, AKIAIOSFODNN7EXAMPLE, 20130524T000000Z — GET with Range, PUT of
///    "Welcome to Amazon S3." at test$file.text, GET ?lifecycle, GET ?max-keys=2&prefix=J, presigned GET of
///    test.txt for 86400 s. Signatures and canonical-request hashes confirmed in several copies of those pages.
@Suite struct SigV4VectorTests {
    static let suiteSigner = SigV4Signer(
        credentials: S3Credentials(
            accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1", service: "service")
    static let suiteDate = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z

    static let s3Signer = SigV4Signer(
        credentials: S3Credentials(
            accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1")
    static let s3Date = Date(timeIntervalSince1970: 1_369_353_600)  // 2013-05-24T00:00:00Z

    struct SuiteCase: Sendable, CustomTestStringConvertible {
        let name: String
        let path: String
        let query: [(name: String, value: String)]
        let headers: [(name: String, value: String)]
        let signature: String
        var testDescription: String { name }
    }

    static let unreserved = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

    /// The get-vanilla family and the other GET cases whose rules S3 shares (no path normalization: S3 keys may
    /// hold `//`, so aws-c-auth's "unnormalized" variant is the S3 one).
    static let suite: [SuiteCase] = [
        .init(
            name: "get-vanilla", path: "/", query: [], headers: [],
            signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        .init(
            name: "get-vanilla-query", path: "/", query: [], headers: [],
            signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        .init(
            name: "get-vanilla-empty-query-key", path: "/", query: [("Param1", "value1")], headers: [],
            signature: "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"),
        .init(
            name: "get-vanilla-query-order-key", path: "/", query: [("Param1", "value2"), ("Param1", "Value1")],
            headers: [], signature: "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1"),
        .init(
            name: "get-vanilla-query-order-key-case", path: "/", query: [("Param2", "value2"), ("Param1", "value1")],
            headers: [], signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
        .init(
            name: "get-vanilla-query-order-value", path: "/", query: [("Param1", "value2"), ("Param1", "value1")],
            headers: [], signature: "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694"),
        .init(
            name: "get-vanilla-query-unreserved", path: "/", query: [(unreserved, unreserved)], headers: [],
            signature: "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"),
        .init(
            name: "get-vanilla-utf8-query", path: "/", query: [("\u{1234}", "bar")], headers: [],
            signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"),
        .init(
            name: "get-unreserved", path: "/" + unreserved, query: [], headers: [],
            signature: "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"),
        .init(
            name: "get-utf8", path: "/\u{1234}", query: [], headers: [],
            signature: "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"),
        .init(
            name: "get-space", path: "/example space/", query: [], headers: [],
            signature: "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"),
        .init(
            name: "get-slashes-unnormalized", path: "//example//", query: [], headers: [],
            signature: "87cca117541a147f6df867677d98a7d80dff226d2bfca9e4ffa899665623c7e5"),
        .init(
            name: "get-header-key-duplicate", path: "/", query: [],
            headers: [("My-Header1", "value2"), ("My-Header1", "value2"), ("My-Header1", "value1")],
            signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"),
        .init(
            name: "get-header-value-order", path: "/", query: [],
            headers: [
                ("My-Header1", "value4"), ("My-Header1", "value1"), ("My-Header1", "value3"), ("My-Header1", "value2"),
            ],
            signature: "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"),
        .init(
            name: "get-header-value-trim", path: "/", query: [],
            headers: [("My-Header1", " value1"), ("My-Header2", "\"a   b   c\"")],
            signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"),
    ]

    @Test(arguments: suite)
    func signsTheTestSuiteCase(_ vector: SuiteCase) {
        let request = SigV4Signer.Request(
            method: "GET", path: vector.path, query: vector.query,
            headers: [("Host", "example.amazonaws.com")] + vector.headers + [("X-Amz-Date", "20150830T123600Z")])
        let signed = Self.suiteSigner.sign(request, date: Self.suiteDate)
        let signedHeaders =
            vector.headers.isEmpty
            ? "host;x-amz-date"
            : vector.name == "get-header-value-trim"
                ? "host;my-header1;my-header2;x-amz-date" : "host;my-header1;x-amz-date"
        #expect(
            signed.authorization
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                + "SignedHeaders=\(signedHeaders), Signature=\(vector.signature)")
        // The generic suite has no x-amz-content-sha256: only S3 requires it.
        #expect(!signed.headers.contains { $0.name.lowercased() == "x-amz-content-sha256" })
    }

    @Test func getVanillaCanonicalRequestAndStringToSign() {
        let request = SigV4Signer.Request(method: "GET", path: "/", headers: [("Host", "example.amazonaws.com")])
        let signed = Self.suiteSigner.sign(request, date: Self.suiteDate)
        #expect(
            signed.canonicalRequest
                == "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
                + SigV4Signer.emptyPayloadSHA256)
        #expect(
            signed.stringToSign
                == "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
                + "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63")
    }

    @Test func headerValuesAreTrimmedAndDuplicatesJoinedInOrder() {
        let request = SigV4Signer.Request(
            method: "GET", path: "/",
            headers: [
                ("Host", "example.amazonaws.com"), ("My-Header1", "value4"), ("My-Header1", "value1"),
                ("My-Header2", "\"a   b   c\""),
            ])
        let signed = Self.suiteSigner.sign(request, date: Self.suiteDate)
        #expect(signed.canonicalRequest.contains("my-header1:value4,value1\nmy-header2:\"a b c\"\n"))
    }

    // MARK: - The S3 documentation's examples

    static func s3Request(
        _ method: String, _ path: String, query: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)] = []
    ) -> SigV4Signer.Request {
        SigV4Signer.Request(
            method: method, path: path, query: query, headers: [("Host", "examplebucket.s3.amazonaws.com")] + headers)
    }

    static func sha256(_ text: String) -> String {
        SigV4Signer.Payload.bytes(Array(text.utf8)).hash
    }

    @Test func s3GetObjectWithRange() {
        let signed = Self.s3Signer.sign(
            Self.s3Request("GET", "/test.txt", headers: [("Range", "bytes=0-9")]), payload: .empty, date: Self.s3Date)
        #expect(
            signed.canonicalRequest
                == "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
                + "x-amz-content-sha256:\(SigV4Signer.emptyPayloadSHA256)\nx-amz-date:20130524T000000Z\n\n"
                + "host;range;x-amz-content-sha256;x-amz-date\n\(SigV4Signer.emptyPayloadSHA256)")
        #expect(
            signed.stringToSign
                == "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
                + "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972")
        #expect(
            signed.authorization
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    @Test func s3PutObjectEncodesTheDollarInTheKey() {
        let body = "Welcome to Amazon S3."
        #expect(Self.sha256(body) == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        let signed = Self.s3Signer.sign(
            Self.s3Request(
                "PUT", "/test$file.text",
                headers: [("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-storage-class", "REDUCED_REDUNDANCY")]),
            payload: .bytes(Array(body.utf8)), date: Self.s3Date)
        #expect(signed.canonicalRequest.hasPrefix("PUT\n/test%24file.text\n\n"))
        #expect(
            signed.stringToSign.hasSuffix("\n9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d"))
        #expect(
            signed.authorization.hasSuffix(
                "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, "
                    + "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"))
    }

    @Test func s3GetBucketLifecycleSignsAValuelessParameterAsNameEquals() {
        let signed = Self.s3Signer.sign(
            Self.s3Request("GET", "/", query: [("lifecycle", "")]), payload: .empty, date: Self.s3Date)
        #expect(signed.canonicalRequest.hasPrefix("GET\n/\nlifecycle=\n"))
        #expect(
            signed.stringToSign.hasSuffix("\n9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca"))
        #expect(signed.signature == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
    }

    @Test func s3ListObjectsSortsTheQuery() {
        let signed = Self.s3Signer.sign(
            Self.s3Request("GET", "/", query: [("prefix", "J"), ("max-keys", "2")]), payload: .empty,
            date: Self.s3Date)
        #expect(signed.canonicalRequest.hasPrefix("GET\n/\nmax-keys=2&prefix=J\n"))
        #expect(signed.signature == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    @Test func s3PresignedGet() throws {
        let url = try Self.s3Signer.presign(
            Self.s3Request("GET", "/test.txt"), base: "https://examplebucket.s3.amazonaws.com", expiresIn: 86_400,
            date: Self.s3Date)
        #expect(
            url
                == "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                + "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
                + "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
                + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    }

    /// The same vector through the client: virtual-hosted style on AWS puts the bucket in the host.
    @Test func s3PresignedGetThroughTheClient() throws {
        let client = S3Client(
            endpoint: try .aws(region: "us-east-1"),
            credentials: S3Credentials(
                accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"))
        let url = try client.presignedGetURL(
            bucket: "examplebucket", key: "test.txt", expiresIn: 86_400, now: Self.s3Date)
        #expect(url.hasPrefix("https://examplebucket.s3.us-east-1.amazonaws.com/test.txt?X-Amz-Algorithm="))
        // The host differs from the example's (the regional endpoint), so the signature must differ too.
        #expect(!url.hasSuffix("aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"))
    }
}
