import Crypto
import Foundation

/// AWS Signature Version 4 (`AWS4-HMAC-SHA256`), as S3 wants it: paths encoded once (never the double encoding
/// other services use), `/` kept in object keys, `x-amz-content-sha256` on every request.
///
/// Header signing adds `x-amz-date`, `x-amz-content-sha256` (S3 only), `x-amz-security-token` (temporary credentials)
/// and `Authorization`; query presigning puts the same in `X-Amz-*` query parameters.
public struct SigV4Signer: Sendable {
    /// The hex SHA-256 of no bytes: the payload hash of a GET, HEAD or DELETE.
    public static let emptyPayloadSHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    /// The payload hash S3 accepts in place of one (the body then travels unhashed; TLS protects it).
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    /// S3's longest presigned URL lifetime, seven days.
    public static let maximumExpiry = 604_800

    public let credentials: S3Credentials
    public let region: String
    public let service: String

    public init(credentials: S3Credentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// What is signed: the method, the path *unencoded* (`/bucket/a b.txt`; the signer encodes it, and the request
    /// must be sent with `encodedPath`), query parameters unencoded, and the headers, Host among them.
    public struct Request: Sendable {
        public var method: String
        public var path: String
        public var query: [(name: String, value: String)]
        public var headers: [(name: String, value: String)]

        public init(
            method: String, path: String, query: [(name: String, value: String)] = [],
            headers: [(name: String, value: String)]
        ) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
        }

        /// The path as it goes on the wire and into the canonical request.
        public var encodedPath: String { SigV4Signer.encode(path, keepingSlashes: true) }
        /// The query string as it goes on the wire: the canonical query string.
        public var encodedQuery: String { SigV4Signer.canonicalQuery(query) }
    }

    /// The payload's hash, or how it is declared.
    public enum Payload: Sendable {
        /// No body: the hash of the empty string.
        case empty
        /// A body, hashed now.
        case bytes([UInt8])
        /// A hash computed elsewhere, 64 lowercase hex digits.
        case sha256Hex(String)
        /// `UNSIGNED-PAYLOAD`.
        case unsigned

        var hash: String {
            switch self {
            case .empty: SigV4Signer.emptyPayloadSHA256
            case .bytes(let bytes): SigV4Signer.hex(SHA256.hash(data: bytes))
            case .sha256Hex(let hex): hex
            case .unsigned: SigV4Signer.unsignedPayload
            }
        }
    }

    /// A signed request's headers (the request's own plus those signing adds, Authorization last), and the parts
    /// that went into the signature, for tests and debugging (no secret key; a session token, when there is one, is
    /// in the headers and the canonical request: do not log them).
    public struct Signed: Sendable {
        public let headers: [(name: String, value: String)]
        public let canonicalRequest: String
        public let stringToSign: String
        public let signature: String
        public var authorization: String { headers.last { $0.name == "Authorization" }?.value ?? "" }
    }

    /// Signs `request` in the Authorization header at `date`. An `x-amz-date` already present is replaced by `date`.
    public func sign(_ request: Request, payload: Payload = .empty, date: Date) -> Signed {
        let payloadHash = payload.hash
        let amzDate = Self.amzDate(date)
        var headers = request.headers.filter {
            let name = $0.name.lowercased()
            return name != "x-amz-date" && name != "authorization"
                && !(service == "s3" && name == "x-amz-content-sha256")
                && !(credentials.sessionToken != nil && name == "x-amz-security-token")
        }
        headers.append((name: "x-amz-date", value: amzDate))
        if service == "s3" { headers.append((name: "x-amz-content-sha256", value: payloadHash)) }
        if let token = credentials.sessionToken { headers.append((name: "x-amz-security-token", value: token)) }
        let (canonicalHeaders, signedHeaders) = Self.canonicalHeaders(headers)
        let canonicalRequest = [
            request.method, request.encodedPath, request.encodedQuery, canonicalHeaders, signedHeaders, payloadHash,
        ].joined(separator: "\n")
        let scope = self.scope(amzDate)
        let stringToSign = Self.stringToSign(canonicalRequest: canonicalRequest, amzDate: amzDate, scope: scope)
        let signature = self.signature(stringToSign, dateStamp: String(amzDate.prefix(8)))
        headers.append(
            (
                name: "Authorization",
                value: "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), "
                    + "SignedHeaders=\(signedHeaders), Signature=\(signature)"
            ))
        return Signed(
            headers: headers, canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature)
    }

    /// A presigned URL for `request` (its headers are signed too: Host at least), valid `expiresIn` seconds from
    /// `date`, with `UNSIGNED-PAYLOAD`. `base` is `scheme://host[:port]`, matching the request's Host header.
    public func presign(_ request: Request, base: String, expiresIn: Int, date: Date) throws(S3Error) -> String {
        guard (1...Self.maximumExpiry).contains(expiresIn) else {
            throw .invalidArgument(
                "a presigned URL lives 1 to \(Self.maximumExpiry) seconds (7 days), not \(expiresIn)")
        }
        let amzDate = Self.amzDate(date)
        let scope = self.scope(amzDate)
        let (canonicalHeaders, signedHeaders) = Self.canonicalHeaders(request.headers)
        var query = request.query
        query.append((name: "X-Amz-Algorithm", value: "AWS4-HMAC-SHA256"))
        query.append((name: "X-Amz-Credential", value: "\(credentials.accessKeyID)/\(scope)"))
        query.append((name: "X-Amz-Date", value: amzDate))
        query.append((name: "X-Amz-Expires", value: String(expiresIn)))
        query.append((name: "X-Amz-SignedHeaders", value: signedHeaders))
        if let token = credentials.sessionToken { query.append((name: "X-Amz-Security-Token", value: token)) }
        let canonicalQuery = Self.canonicalQuery(query)
        let canonicalRequest = [
            request.method, request.encodedPath, canonicalQuery, canonicalHeaders, signedHeaders,
            Self.unsignedPayload,
        ].joined(separator: "\n")
        let stringToSign = Self.stringToSign(canonicalRequest: canonicalRequest, amzDate: amzDate, scope: scope)
        let signature = self.signature(stringToSign, dateStamp: String(amzDate.prefix(8)))
        return base + request.encodedPath + "?" + canonicalQuery + "&X-Amz-Signature=" + signature
    }

    // MARK: - The algorithm's pieces

    func scope(_ amzDate: String) -> String { "\(amzDate.prefix(8))/\(region)/\(service)/aws4_request" }

    static func stringToSign(canonicalRequest: String, amzDate: String, scope: String) -> String {
        "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n" + hex(SHA256.hash(data: Array(canonicalRequest.utf8)))
    }

    func signature(_ stringToSign: String, dateStamp: String) -> String {
        var key = SymmetricKey(data: Array("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [dateStamp, region, service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return Self.hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
    }

    /// Lowercase names, sorted; values trimmed with inner runs of spaces made one; repeated headers joined by commas
    /// in the order given. Returns the canonical header block (each line ending in a newline) and SignedHeaders.
    static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> (String, String) {
        var values: [String: [String]] = [:]
        for (name, value) in headers {
            let trimmed = value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
            values[name.lowercased(), default: []].append(trimmed)
        }
        let names = values.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        let block = names.map { "\($0):\(values[$0]!.joined(separator: ","))\n" }.joined()
        return (block, names.joined(separator: ";"))
    }

    /// Each name and value encoded, sorted by name then value (byte order), joined with `&`.
    static func canonicalQuery(_ query: [(name: String, value: String)]) -> String {
        query.map { (encode($0.name, keepingSlashes: false), encode($0.value, keepingSlashes: false)) }
            .sorted { left, right in
                left.0 == right.0
                    ? Array(left.1.utf8).lexicographicallyPrecedes(Array(right.1.utf8))
                    : Array(left.0.utf8).lexicographicallyPrecedes(Array(right.0.utf8))
            }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// SigV4's URI encoding: every UTF-8 byte except the unreserved `A-Z a-z 0-9 - . _ ~` as `%XX` (uppercase hex);
    /// `/` kept in paths, encoded in query parameters. Applied once: S3 does not double-encode.
    public static func encode(_ text: String, keepingSlashes: Bool) -> String {
        var result: [UInt8] = []
        result.reserveCapacity(text.utf8.count)
        let digits = Array("0123456789ABCDEF".utf8)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                result.append(byte)
            case UInt8(ascii: "/") where keepingSlashes:
                result.append(byte)
            default:
                result += [UInt8(ascii: "%"), digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: result, as: UTF8.self)
    }

    /// `YYYYMMDDTHHMMSSZ` in UTC, whole seconds (fractions dropped), without a formatter or calendar.
    public static func amzDate(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        // Days since 1970-01-01 to a proleptic Gregorian civil date (the era arithmetic of "chrono-compatible
        // low-level date algorithms", public domain).
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ value: Int64, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return pad(year, 4) + pad(month, 2) + pad(day, 2) + "T" + pad(secondOfDay / 3600, 2)
            + pad(secondOfDay % 3600 / 60, 2) + pad(secondOfDay % 60, 2) + "Z"
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var result: [UInt8] = []
        for byte in digest { result += [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]] }
        return String(decoding: result, as: UTF8.self)
    }
}
