import Testing

@testable import S3

@Suite struct S3ErrorBodyTests {
    @Test func readsCodeAndMessageOnly() {
        let body = Array(
            """
            <?xml version="1.0" encoding="UTF-8"?>
            <Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match \
            the signature you provided. Check your key &amp; signing method.</Message><AWSAccessKeyId>AKID\
            </AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256…</StringToSign><SignatureProvided>abc\
            </SignatureProvided></Error>
            """.utf8)
        let parsed = S3ErrorBody(body)
        #expect(parsed?.code == "SignatureDoesNotMatch")
        #expect(parsed?.message.hasSuffix("Check your key & signing method.") == true)
        #expect(S3XML.isError(body))
    }

    @Test func decodesEntities() {
        #expect(
            S3XML.unescape("&quot;abc&quot; &lt;&gt; &apos;&#65;&#x42;&amp;amp; &bogus; & trailing")
                == "\"abc\" <> 'AB&amp; &bogus; & trailing")
        #expect(S3XML.escape("\"e\"<&>'") == "&quot;e&quot;&lt;&amp;&gt;&apos;")
    }

    @Test func anythingElseIsNoErrorBody() {
        #expect(S3ErrorBody([]) == nil)
        #expect(S3ErrorBody(Array("<html>502 Bad Gateway</html>".utf8)) == nil)
        #expect(S3ErrorBody(Array("<Error><Code></Code></Error>".utf8)) == nil)
        #expect(S3ErrorBody([0xFF, 0xFE, 0x00]) == nil)
        #expect(!S3XML.isError(Array("<CompleteMultipartUploadResult><ETag>x</ETag>".utf8)))
        #expect(S3XML.firstElement("ETag", in: Array("<ETag>unterminated".utf8)) == nil)
    }

    @Test func errorDescriptionsNameTheProblem() {
        #expect(S3Error.noSuchBucket("b").description == "S3 bucket 'b' does not exist")
        #expect(
            S3Error.badResponse(status: 500, code: "InternalError", message: "oops").description
                == "S3 answered HTTP 500 InternalError: oops")
    }
}
