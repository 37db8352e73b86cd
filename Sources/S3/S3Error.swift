/// What went wrong talking to an S3-compatible store, typed so that callers can act on it (a missing bucket is a
/// configuration mistake, a failed precondition a race with another writer, an unreachable endpoint a retry).
///
/// Descriptions never contain the secret access key, a signature or a session token: they name the bucket, the key,
/// the endpoint and what the server said (its `<Code>` and `<Message>` only).
public enum S3Error: Error, CustomStringConvertible, Equatable, Sendable {
    /// The bucket does not exist (S3 `NoSuchBucket`, or a 404 on a bucket-level request).
    case noSuchBucket(String)
    /// The object does not exist (S3 `NoSuchKey`, or a 404 on an object in an existing bucket).
    case noSuchKey(String)
    /// The credentials are valid but not allowed to do this (S3 `AccessDenied` and kin).
    case accessDenied(code: String, message: String)
    /// The server does not accept the credentials themselves: `InvalidAccessKeyId`, `SignatureDoesNotMatch` (a
    /// wrong secret), `InvalidToken`, `ExpiredToken`.
    case invalidCredentials(code: String, message: String)
    /// An `If-Match` did not match: the object changed (or never had that ETag).
    case preconditionFailed(String)
    /// No HTTP exchange happened: connection refused, DNS, TLS, timeout, or the connection broke mid-response.
    case unreachable(endpoint: String, reason: String)
    /// A malformed `s3://` location, bucket name or object key.
    case badLocation(String)
    /// No usable credentials were found (or a profile named was not there).
    case missingCredentials(String)
    /// Any other answer the client cannot use: the HTTP status, S3's error code (or a code of ours for a malformed
    /// answer) and the message.
    case badResponse(status: Int, code: String, message: String)
    /// An argument outside what S3 accepts (a presigned URL's lifetime, a byte range, an endpoint URL or region).
    case invalidArgument(String)
    /// The closure that consumes `getObjectChunks`'s chunks threw; the download was abandoned.
    case consumerFailed(String)
    /// The task making the request was cancelled.
    case cancelled

    public var description: String {
        switch self {
        case .noSuchBucket(let bucket): "S3 bucket '\(bucket)' does not exist"
        case .noSuchKey(let key): "S3 object '\(key)' does not exist"
        case .accessDenied(let code, let message): "S3 refused access (\(code)): \(message)"
        case .invalidCredentials(let code, let message):
            "S3 did not accept the credentials (\(code)): \(message)"
        case .preconditionFailed(let key): "S3 object '\(key)' no longer has the expected ETag (If-Match failed)"
        case .unreachable(let endpoint, let reason): "S3 endpoint \(endpoint) is unreachable: \(reason)"
        case .badLocation(let why): "bad S3 location: \(why)"
        case .missingCredentials(let why): "no S3 credentials: \(why)"
        case .badResponse(let status, let code, let message):
            "S3 answered HTTP \(status) \(code)" + (message.isEmpty ? "" : ": \(message)")
        case .invalidArgument(let why): "invalid S3 request: \(why)"
        case .consumerFailed(let why): "the S3 download was abandoned by its consumer: \(why)"
        case .cancelled: "the S3 request was cancelled"
        }
    }
}
