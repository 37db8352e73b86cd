import Foundation
import HTTPTypes
import Hummingbird

// The console's pages are HTML built here, every value passed through `HTML.escape`; no template language, no
// inline script or style (the Content-Security-Policy forbids both), no asset from anywhere but this server.

enum HTML {
    static func escape(_ text: String) -> String {
        // By Unicode scalar, not Character: `"` followed by a combining mark is one Character that is not `"`,
        // and would pass through unescaped.
        var escaped = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped.append(contentsOf: "&amp;".unicodeScalars)
            case "<": escaped.append(contentsOf: "&lt;".unicodeScalars)
            case ">": escaped.append(contentsOf: "&gt;".unicodeScalars)
            case "\"": escaped.append(contentsOf: "&quot;".unicodeScalars)
            case "'": escaped.append(contentsOf: "&#39;".unicodeScalars)
            default: escaped.append(scalar)
            }
        }
        return String(escaped)
    }

    /// A query or path component, percent-encoded.
    static func component(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    /// RFC 3986's unreserved characters, ASCII only (`CharacterSet.alphanumerics` has every script's letters).
    private static let unreserved = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")

    /// Sent with every console response: only this server's scripts, styles and images, no framing, no sniffing,
    /// nothing cached, no referrer leaving the page.
    static let securityHeaders: HTTPFields = [
        .contentSecurityPolicy:
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
            + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        HTTPField.Name("X-Frame-Options")!: "DENY",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        HTTPField.Name("Referrer-Policy")!: "no-referrer",
        .cacheControl: "no-store",
    ]

    static func response(_ html: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func redirect(to location: String, headers extra: HTTPFields = [:]) -> Response {
        var headers = securityHeaders
        headers[.location] = location
        for field in extra { headers.append(field) }
        return Response(status: .seeOther, headers: headers)
    }

    /// A whole page: the navigation for `principal` (nil on the login page) around `body`.
    static func page(
        _ title: String, body: String, principal: Principal? = nil, csrf: String? = nil, section: String = "",
        status: HTTPResponse.Status = .ok
    ) -> Response {
        var navigation = ""
        if let principal {
            var links = [("updates", "Updates"), ("fleet", "Fleet"), ("groups", "Groups"), ("files", "Files")]
            if principal.may(.admin) { links.append(("audit", "Audit")) }
            navigation =
                "<nav><a class=\"brand\" href=\"/console/updates\">SwiftOTA</a><ul>"
                + links.map { link in
                    "<li><a href=\"/console/\(link.0)\"\(link.0 == section ? " aria-current=\"page\"" : "")>\(link.1)</a></li>"
                }.joined()
                + "</ul><form method=\"post\" action=\"/console/logout\" class=\"who\">"
                + "<span>\(escape(principal.name)) · \(principal.role.rawValue)</span>"
                + hiddenCSRF(csrf) + "<button type=\"submit\">Sign out</button></form></nav>"
        }
        return response(
            """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title)) · SwiftOTA</title>
            <link rel="stylesheet" href="/console/assets/console.css">
            <script src="/console/assets/console.js" defer></script>
            </head><body>\(navigation)<main><h1>\(escape(title))</h1>\(body)</main></body></html>
            """, status: status)
    }

    static func hiddenCSRF(_ token: String?) -> String {
        token.map { "<input type=\"hidden\" name=\"csrf\" value=\"\(escape($0))\">" } ?? ""
    }

    /// A table: header cells, then rows of already-escaped cells.
    static func table(_ headers: [String], _ rows: [[String]], id: String? = nil) -> String {
        "<div class=\"scroll\"><table\(id.map { " id=\"\(escape($0))\"" } ?? "")><thead><tr>"
            + headers.map { "<th scope=\"col\">\(escape($0))</th>" }.joined() + "</tr></thead><tbody>"
            + rows.map { "<tr>" + $0.map { "<td>\($0)</td>" }.joined() + "</tr>" }.joined() + "</tbody></table></div>"
    }

    static func time(_ seconds: Int64?) -> String {
        guard let seconds else { return "never" }
        return escape(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(seconds))))
    }
}
