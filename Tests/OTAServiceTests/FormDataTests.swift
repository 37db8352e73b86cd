import Foundation
import Testing

@testable import OTAService

// What console forms post, parsed strictly: URL-encoded fields and multipart uploads; anything malformed is an
// invalid request, never a crash.
@Suite struct FormDataTests {
    @Test func urlEncodedFieldsDecodeWithRepeats() throws {
        let form = try FormData.urlEncoded(Array("a=1&b=x+y&b=%C3%A9&empty=&flag".utf8))
        #expect(form.value("a") == "1" && form.values("b") == ["x y", "é"])
        #expect(form.value("empty") == "" && form.value("flag") == "")
        #expect(throws: OTAServiceError.self) { try FormData.urlEncoded(Array("a=%zz".utf8)) }
    }

    @Test func multipartCarriesFieldsAndTheFileByteForByte() throws {
        let file: [UInt8] = [0xE9, 0x00, 0x0D, 0x0A, 0x2D, 0x2D, 0xFF]  // CRLF and "--" inside the file
        var body = Array("--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok\r\n".utf8)
        body += Array("--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"fw.bin\"\r\n".utf8)
        body += Array("Content-Type: application/octet-stream\r\n\r\n".utf8) + file + Array("\r\n--XyZ--\r\n".utf8)
        let form = try FormData.multipart(body, boundary: "XyZ")
        #expect(form.value("csrf") == "tok")
        #expect(form.file?.name == "fw.bin" && form.file?.bytes == file)
    }

    @Test func malformedMultipartIsRefused() {
        let cases: [(String, String)] = [
            ("", "XyZ"),
            ("--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno end", "XyZ"),
            ("--XyZ\r\nno blank line\r\n--XyZ--", "XyZ"),
            ("--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--", "XyZ"),
            ("--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--XyZ--", ""),
            ("--XyZ", "XyZ"),
        ]
        for (body, boundary) in cases {
            #expect(throws: OTAServiceError.self, "\(body.debugDescription)") {
                try FormData.multipart(Array(body.utf8), boundary: boundary)
            }
        }
    }
}
