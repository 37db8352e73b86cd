/// A bucket and a key prefix, as written `s3://BUCKET[/PREFIX]` — or `s3://BUCKET/KEY` for one object, where the
/// prefix is the whole key. Both are validated when the value is made, so a value in hand is always usable.
public struct S3Location: Sendable, Equatable, CustomStringConvertible {
    public let bucket: String
    /// The key prefix (possibly empty), kept as written: `s3://b/firmware/` has prefix `firmware/`.
    public let prefix: String

    public init(bucket: String, prefix: String = "") throws(S3Error) {
        try S3Names.validateBucket(bucket)
        if !prefix.isEmpty { try S3Names.validateKey(prefix) }
        self.bucket = bucket
        self.prefix = prefix
    }

    /// Parses `s3://BUCKET`, `s3://BUCKET/`, `s3://BUCKET/PREFIX/` or `s3://BUCKET/KEY`.
    public init(parsing uri: String) throws(S3Error) {
        guard uri.hasPrefix("s3://") else {
            throw .badLocation("'\(uri)' is not an s3:// location (s3://BUCKET[/PREFIX])")
        }
        let rest = uri.dropFirst("s3://".count)
        let bucket: Substring
        let prefix: Substring
        if let slash = rest.firstIndex(of: "/") {
            bucket = rest[..<slash]
            prefix = rest[rest.index(after: slash)...]
        } else {
            bucket = rest
            prefix = ""
        }
        guard !bucket.isEmpty else { throw .badLocation("'\(uri)' names no bucket (s3://BUCKET[/PREFIX])") }
        try self.init(bucket: String(bucket), prefix: String(prefix))
    }

    /// The key of `name` under the prefix: `firmware/` + `a.bin`, or `firmware` + `/` + `a.bin`.
    public func key(_ name: String) -> String {
        if prefix.isEmpty { return name }
        return prefix.hasSuffix("/") ? prefix + name : prefix + "/" + name
    }

    public var description: String { prefix.isEmpty ? "s3://\(bucket)" : "s3://\(bucket)/\(prefix)" }
}

/// S3's naming rules, checked before a request is made so a typo is a clear error rather than a 400 or a request
/// to an unintended host (a bucket name becomes part of a host name in virtual-hosted style).
enum S3Names {
    /// General purpose bucket naming rules (Amazon S3 User Guide, "Bucket naming rules"): 3 to 63 characters of
    /// lowercase letters, digits, dots and hyphens; a letter or digit first and last; no two adjacent dots; not an
    /// IPv4 address; none of the prefixes and suffixes S3 reserves.
    static func validateBucket(_ name: String) throws(S3Error) {
        func bad(_ why: String) -> S3Error { .badLocation("bucket name '\(name)' \(why)") }
        let bytes = Array(name.utf8)
        guard (3...63).contains(bytes.count) else { throw bad("must be 3 to 63 characters long") }
        func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
        if bytes.contains(where: { !isLowerAlphanumeric($0) && $0 != UInt8(ascii: ".") && $0 != UInt8(ascii: "-") }) {
            throw bad("may contain only lowercase letters, digits, dots and hyphens")
        }
        guard isLowerAlphanumeric(bytes[0]), isLowerAlphanumeric(bytes[bytes.count - 1]) else {
            throw bad("must begin and end with a letter or digit")
        }
        guard !name.contains("..") else { throw bad("must not contain two adjacent dots") }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        if labels.count == 4, labels.allSatisfy({ UInt8($0) != nil }) {
            throw bad("must not be formatted as an IP address")
        }
        for reserved in ["xn--", "sthree-", "amzn-s3-demo-"] where name.hasPrefix(reserved) {
            throw bad("must not begin with '\(reserved)' (reserved by S3)")
        }
        for reserved in ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"] where name.hasSuffix(reserved) {
            throw bad("must not end with '\(reserved)' (reserved by S3)")
        }
    }

    /// An object key: 1 to 1,024 bytes of UTF-8 (S3's limit). Control characters are refused: S3 stores them, but
    /// they cannot be returned in XML 1.0 listings, and in this service a key with one is always a mistake.
    static func validateKey(_ key: String) throws(S3Error) {
        let count = key.utf8.count
        guard count > 0 else { throw .badLocation("an object key must not be empty") }
        guard count <= 1024 else { throw .badLocation("object key is \(count) bytes long; S3 allows at most 1024") }
        if key.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw .badLocation(
                "object key '\(key.debugDescription.dropFirst().dropLast())' contains a control character")
        }
    }
}
