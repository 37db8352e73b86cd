import Foundation

/// The few elements the client reads from S3's XML answers: `<Code>` and `<Message>` of an error, `<UploadId>` and
/// `<ETag>` of the multipart answers. S3's XML is flat and machine-written, so a tag extractor is enough, and it
/// never fails: a body that is not what we expect yields nil, which callers turn into a typed error.
enum S3XML {
    /// The text of the first `<name>…</name>` element, entities decoded; nil when absent.
    static func firstElement(_ name: String, in body: [UInt8]) -> String? {
        let text = String(decoding: body, as: UTF8.self)
        guard let open = text.range(of: "<\(name)>"),
            let close = text.range(of: "</\(name)>", range: open.upperBound..<text.endIndex)
        else { return nil }
        return unescape(String(text[open.upperBound..<close.lowerBound]))
    }

    /// Whether the document's root is `<Error>`: a CompleteMultipartUpload can answer 200 and still have failed.
    static func isError(_ body: [UInt8]) -> Bool {
        var text = Substring(String(decoding: body.prefix(512), as: UTF8.self))
        text = text.drop { $0.isWhitespace }
        if text.hasPrefix("<?xml"), let end = text.range(of: "?>") { text = text[end.upperBound...] }
        return text.drop { $0.isWhitespace }.hasPrefix("<Error>")
    }

    /// The five predefined XML entities and numeric character references.
    static func unescape(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var result = ""
        var rest = Substring(text)
        while let ampersand = rest.firstIndex(of: "&") {
            result += rest[..<ampersand]
            guard let semicolon = rest[ampersand...].firstIndex(of: ";"),
                rest.distance(from: ampersand, to: semicolon) <= 10
            else {
                result += rest[ampersand...]
                return result
            }
            let entity = rest[rest.index(after: ampersand)..<semicolon]
            if let decoded = decode(entity) {
                result.append(decoded)
            } else {
                result += rest[ampersand...semicolon]
            }
            rest = rest[rest.index(after: semicolon)...]
        }
        return result + rest
    }

    /// Text made safe to put between XML tags (the ETags of a CompleteMultipartUpload carry quotes).
    static func escape(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            default: result.append(character)
            }
        }
        return result
    }

    private static func decode(_ entity: Substring) -> Character? {
        switch entity {
        case "amp": return "&"
        case "lt": return "<"
        case "gt": return ">"
        case "quot": return "\""
        case "apos": return "'"
        default:
            let value: UInt32?
            if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                value = UInt32(entity.dropFirst(2), radix: 16)
            } else if entity.hasPrefix("#") {
                value = UInt32(entity.dropFirst(), radix: 10)
            } else {
                value = nil
            }
            return value.flatMap(Unicode.Scalar.init).map(Character.init)
        }
    }
}

/// An S3 error answer: `<Error><Code>NoSuchKey</Code><Message>…</Message>…</Error>`. Only the code and the message
/// are kept — an S3 `SignatureDoesNotMatch` body also carries the string to sign and the signature provided, which
/// must not travel into logs.
struct S3ErrorBody: Equatable, Sendable {
    let code: String
    let message: String

    init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    /// The code and message of an error body; nil when the body has no `<Code>` (a HEAD answer has no body at all).
    init?(_ body: [UInt8]) {
        guard let code = S3XML.firstElement("Code", in: body), !code.isEmpty else { return nil }
        self.code = code
        self.message = S3XML.firstElement("Message", in: body) ?? ""
    }
}
