import Foundation
import Testing

@testable import S3

@Suite struct SigV4SignerTests {
    let credentials = S3Credentials(accessKeyID: "AKIDTEST", secretAccessKey: "secret/with+chars")

    @Test func encodesEveryByteButTheUnreservedOnce() {
        #expect(SigV4Signer.encode("a b+c/ü~x.txt", keepingSlashes: true) == "a%20b%2Bc/%C3%BC~x.txt")
        #expect(SigV4Signer.encode("a/b", keepingSlashes: false) == "a%2Fb")
        #expect(SigV4Signer.encode("100%", keepingSlashes: true) == "100%25")
        #expect(SigV4Signer.encode("%20", keepingSlashes: true) == "%2520")  // a literal key, not pre-encoded
        #expect(
            SigV4Signer.encode("!*'()=&?#[]@$,;:", keepingSlashes: true)
                == "%21%2A%27%28%29%3D%26%3F%23%5B%5D%40%24%2C%3B%3A")
    }

    @Test func formatsAmzDatesInUTC() {
        #expect(SigV4Signer.amzDate(Date(timeIntervalSince1970: 0)) == "19700101T000000Z")
        #expect(SigV4Signer.amzDate(Date(timeIntervalSince1970: 1_369_353_600.999)) == "20130524T000000Z")
        #expect(SigV4Signer.amzDate(Date(timeIntervalSince1970: 951_782_400)) == "20000229T000000Z")
        #expect(SigV4Signer.amzDate(Date(timeIntervalSince1970: 4_107_542_399)) == "21000228T235959Z")
        #expect(SigV4Signer.amzDate(Date(timeIntervalSince1970: -1)) == "19691231T235959Z")
    }

    @Test func s3RequestsCarryTheirPayloadHash() {
        let signer = SigV4Signer(credentials: credentials, region: "eu-west-1")
        let request = SigV4Signer.Request(method: "PUT", path: "/b/k", headers: [("Host", "h")])
        let unsigned = signer.sign(request, payload: .unsigned, date: Date(timeIntervalSince1970: 0))
        #expect(unsigned.headers.contains { $0 == ("x-amz-content-sha256", "UNSIGNED-PAYLOAD") })
        #expect(unsigned.canonicalRequest.hasSuffix("\nUNSIGNED-PAYLOAD"))
        let hashed = signer.sign(request, payload: .bytes([1, 2, 3]), date: Date(timeIntervalSince1970: 0))
        let expected = "039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81"
        #expect(hashed.headers.contains { $0 == ("x-amz-content-sha256", expected) })
        #expect(hashed.authorization.contains("Credential=AKIDTEST/19700101/eu-west-1/s3/aws4_request"))
    }

    @Test func aSessionTokenIsSentAndSigned() throws {
        let temporary = S3Credentials(accessKeyID: "ASIATEST", secretAccessKey: "s", sessionToken: "token/+=")
        let signer = SigV4Signer(credentials: temporary, region: "us-east-1")
        let signed = signer.sign(
            SigV4Signer.Request(method: "GET", path: "/b/k", headers: [("Host", "h")]), date: Date())
        #expect(signed.headers.contains { $0 == ("x-amz-security-token", "token/+=") })
        #expect(
            signed.authorization.contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token"))
        let url = try signer.presign(
            SigV4Signer.Request(method: "GET", path: "/b/k", headers: [("host", "h")]), base: "https://h",
            expiresIn: 60, date: Date())
        #expect(url.contains("&X-Amz-Security-Token=token%2F%2B%3D&"))
    }

    @Test(arguments: [0, -1, 604_801, Int.max])
    func refusesPresignedLifetimesS3Refuses(_ seconds: Int) {
        let signer = SigV4Signer(credentials: credentials, region: "us-east-1")
        let request = SigV4Signer.Request(method: "GET", path: "/b/k", headers: [("host", "h")])
        #expect(throws: S3Error.self) {
            try signer.presign(request, base: "https://h", expiresIn: seconds, date: Date())
        }
    }

    @Test func acceptsTheLongestPresignedLifetime() throws {
        let signer = SigV4Signer(credentials: credentials, region: "us-east-1")
        let request = SigV4Signer.Request(method: "GET", path: "/b/k", headers: [("host", "h")])
        let url = try signer.presign(request, base: "https://h", expiresIn: 604_800, date: Date())
        #expect(url.contains("X-Amz-Expires=604800"))
    }
}
