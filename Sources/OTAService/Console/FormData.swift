import Foundation

// What a console form posts: `application/x-www-form-urlencoded` fields, or `multipart/form-data` with a file (the
// upload page). Both are parsed from a body already limited in size; a malformed one is a 400, never a crash.

struct FormData: Sendable {
    var fields: [String: [String]] = [:]
    var file: (name: String, bytes: [UInt8])?

    func value(_ name: String) -> String? { fields[name]?.first }
    func values(_ name: String) -> [String] { fields[name] ?? [] }

    /// `a=1&b=x+y&b=%C3%A9`.
    static func urlEncoded(_ bytes: [UInt8]) throws -> FormData {
        var form = FormData()
        for pair in String(decoding: bytes, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(parts[0]), let value = decode(parts.count > 1 ? parts[1] : "") else {
                throw OTAServiceError.invalidRequest("the form is not valid URL encoding")
            }
            form.fields[name, default: []].append(value)
        }
        return form
    }

    private static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").percentDecoded
    }

    /// RFC 7578: parts separated by `--boundary`, each with headers, a blank line, and its bytes.
    static func multipart(_ bytes: [UInt8], boundary: String) throws -> FormData {
        let invalid = OTAServiceError.invalidRequest("the form is not valid multipart/form-data")
        guard !boundary.isEmpty, boundary.utf8.count <= 70 else { throw invalid }
        let delimiter = Array(("\r\n--" + boundary).utf8)
        // The first delimiter has no CRLF before it.
        var body = Array("\r\n".utf8) + bytes
        var form = FormData()
        guard var start = body.firstRange(of: delimiter)?.upperBound else { throw invalid }
        while true {
            guard start + 2 <= body.count else { throw invalid }
            if body[start] == 0x2D, body[start + 1] == 0x2D { break }  // "--": the last delimiter
            guard body[start] == 0x0D, body[start + 1] == 0x0A else { throw invalid }
            let partStart = start + 2
            guard let end = body[partStart...].firstRange(of: delimiter) else { throw invalid }
            let part = Array(body[partStart..<end.lowerBound])
            guard let split = part.firstRange(of: Array("\r\n\r\n".utf8)) else { throw invalid }
            let headers = String(decoding: part[..<split.lowerBound], as: UTF8.self)
            let content = Array(part[split.upperBound...])
            guard
                let disposition = headers.split(separator: "\r\n").first(where: {
                    $0.lowercased().hasPrefix("content-disposition:")
                }), let name = parameter("name", in: disposition)
            else { throw invalid }
            if let filename = parameter("filename", in: disposition) {
                form.file = (filename, content)
            } else {
                form.fields[name, default: []].append(String(decoding: content, as: UTF8.self))
            }
            start = end.upperBound
        }
        body.removeAll()
        return form
    }

    /// `name="value"` in a Content-Disposition header.
    private static func parameter(_ key: String, in header: Substring) -> String? {
        for item in header.split(separator: ";").dropFirst() {
            let trimmed = item.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix(key + "=\""), trimmed.hasSuffix("\""), trimmed.count >= key.count + 3 else {
                continue
            }
            return String(trimmed.dropFirst(key.count + 2).dropLast())
        }
        return nil
    }
}
