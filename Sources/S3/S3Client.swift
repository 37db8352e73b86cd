import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A client for one S3-compatible endpoint: objects in and out (multipart above a threshold), ranged and
/// conditional reads, streamed reads, presigned GET URLs. Every failure is an `S3Error`.
public final class S3Client: Sendable {
    public let endpoint: S3Endpoint
    /// Objects of at least this many bytes are uploaded in parts.
    public let multipartThreshold: Int
    /// The size of each part but the last (never below S3's 5 MiB minimum).
    public let partSize: Int
    let signer: SigV4Signer
    let httpClient: HTTPClient
    let requestTimeout: TimeAmount

    /// S3's smallest part but the last, 5 MiB; a smaller `partSize` is raised to it.
    public static let minimumPartSize = 5 << 20
    /// S3's largest part count: a bigger object gets bigger parts.
    public static let maximumPartCount = 10_000

    /// An HTTP client configured for object storage, the default for every `S3Client`. Unlike `HTTPClient.shared`
    /// it never decompresses (an object stored with `Content-Encoding: gzip` must come back byte for byte), never
    /// follows redirects (S3 answers a wrong region with one, and the signature would not hold there), and gives up
    /// on an endpoint that cannot be reached after 10 s rather than 90 s.
    public static let defaultHTTPClient: HTTPClient = {
        let configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(10), read: .seconds(60)),
            decompression: .disabled
        )
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// The most a whole-object read (or a server ignoring `Range`) may bring into memory: 64 MiB, four times the
    /// largest file the service stores.
    public static let maximumObjectBytes = 64 << 20

    /// - Parameters:
    ///   - httpClient: the client requests go through; its owner shuts it down (the default never needs it).
    ///   - requestTimeout: the longest one request may take, body included (one part of a multipart upload).
    public init(
        endpoint: S3Endpoint, credentials: S3Credentials, httpClient: HTTPClient = S3Client.defaultHTTPClient,
        multipartThreshold: Int = 16 << 20, partSize: Int = 8 << 20, requestTimeout: Duration = .seconds(300)
    ) {
        self.endpoint = endpoint
        self.signer = SigV4Signer(credentials: credentials, region: endpoint.region)
        self.httpClient = httpClient
        self.multipartThreshold = max(1, multipartThreshold)
        self.partSize = max(Self.minimumPartSize, partSize)
        // Clamped to 1 ns ... ~30 years, so that no Duration can overflow the nanosecond count.
        let (seconds, attoseconds) = requestTimeout.components
        let boundedSeconds = min(max(seconds, 0), 1_000_000_000)
        self.requestTimeout = .nanoseconds(max(1, boundedSeconds * 1_000_000_000 + attoseconds / 1_000_000_000))
    }

    // MARK: - Buckets

    /// Succeeds when the bucket exists and these credentials may list it.
    public func headBucket(_ bucket: String) async throws(S3Error) {
        try S3Names.validateBucket(bucket)
        let response = try await send(S3Request(method: .HEAD, bucket: bucket))
        guard response.status == .ok else {
            if response.status.code == 403 {
                // A HEAD answer has no body, so nothing tells bad credentials from missing permission. ListBucket
                // is the permission HeadBucket needs too: an empty listing's answer says which it is.
                throw try await explainForbiddenHead(
                    S3Request(method: .GET, bucket: bucket, query: [("list-type", "2"), ("max-keys", "0")]),
                    bucket: bucket, key: nil)
            }
            throw failure(response, body: [], bucket: bucket, key: nil)
        }
    }

    // MARK: - Objects

    /// Stores `bytes` at `key`: one PUT below `multipartThreshold`, a multipart upload at or above it.
    @discardableResult
    public func putObject(bucket: String, key: String, bytes: [UInt8]) async throws(S3Error) -> S3ObjectInfo {
        try S3Names.validateBucket(bucket)
        try S3Names.validateKey(key)
        if bytes.count >= multipartThreshold {
            return try await putMultipart(bucket: bucket, key: key, bytes: bytes)
        }
        let response = try await send(S3Request(method: .PUT, bucket: bucket, key: key, body: bytes))
        let body = try await collect(response, limit: Self.maximumXMLBody)
        guard response.status == .ok else { throw failure(response, body: body, bucket: bucket, key: key) }
        return S3ObjectInfo(size: Int64(bytes.count), etag: try etag(of: response))
    }

    /// The object's size and ETag.
    public func headObject(bucket: String, key: String) async throws(S3Error) -> S3ObjectInfo {
        try S3Names.validateBucket(bucket)
        try S3Names.validateKey(key)
        let response = try await send(S3Request(method: .HEAD, bucket: bucket, key: key))
        switch response.status.code {
        case 200: return S3ObjectInfo(size: try contentLength(of: response), etag: try etag(of: response))
        case 404:
            // No body to say whether the bucket or the key is missing: ask about the bucket.
            do throws(S3Error) {
                try await headBucket(bucket)
            } catch .noSuchBucket {
                throw .noSuchBucket(bucket)
            } catch {
                // The bucket answered, just not to a HEAD: the key is what is missing.
            }
            throw .noSuchKey(key)
        case 403:
            // GetObject is the permission HeadObject needs too: one byte of it says why the HEAD was refused.
            throw try await explainForbiddenHead(
                S3Request(method: .GET, bucket: bucket, key: key, headers: [("Range", "bytes=0-0")]),
                bucket: bucket, key: key)
        default: throw failure(response, body: [], bucket: bucket, key: key)
        }
    }

    /// The object's bytes, or those of `range` (inclusive offsets, as HTTP's `Range: bytes=first-last`; a range
    /// past the end yields the bytes there are). With `ifMatch` (an ETag, quoted or not) the read fails with
    /// `.preconditionFailed` unless the object still has that ETag.
    public func getObject(
        bucket: String, key: String, range: ClosedRange<Int64>? = nil, ifMatch: String? = nil
    ) async throws(S3Error) -> [UInt8] {
        try S3Names.validateBucket(bucket)
        try S3Names.validateKey(key)
        var headers: [(name: String, value: String)] = []
        if let range {
            guard range.lowerBound >= 0 else {
                throw .invalidArgument("byte range \(range) starts before the object")
            }
            headers.append(("Range", "bytes=\(range.lowerBound)-\(range.upperBound)"))
        }
        if let ifMatch { headers.append(("If-Match", Self.quotedETag(ifMatch))) }
        let response = try await send(S3Request(method: .GET, bucket: bucket, key: key, headers: headers))
        // A ranged answer may not exceed its range; a whole object, what the caller may hold (`maximumObjectBytes`):
        // a broken or hostile endpoint must not fill the service's memory.
        switch (response.status.code, range) {
        case (206, .some(let range)):
            return try await collect(response, limit: Int(clamping: range.upperBound - range.lowerBound + 1))
        case (200, nil):
            return try await collect(response, limit: Self.maximumObjectBytes)
        case (200, .some(let range)):
            // A server that ignores Range sends the whole object: cut the range out here.
            let whole = try await collect(response, limit: Self.maximumObjectBytes)
            let lower = Int(clamping: range.lowerBound)
            let upper = Int(clamping: range.upperBound)
            guard lower < whole.count else { return [] }
            return Array(whole[lower...min(upper, whole.count - 1)])
        default:
            let body = try await collect(response, limit: Self.maximumXMLBody)
            throw failure(response, body: body, bucket: bucket, key: key)
        }
    }

    /// Reads the whole object chunk by chunk, as the network delivers it, handing each to `body` — an object of
    /// any size passes through without being held whole (hashing it on import, say). Returns its size and ETag.
    /// If `body` throws, the download stops and this throws `.consumerFailed`.
    @discardableResult
    public func getObjectChunks(
        bucket: String, key: String, ifMatch: String? = nil, _ body: (ArraySlice<UInt8>) throws -> Void
    ) async throws(S3Error) -> S3ObjectInfo {
        try S3Names.validateBucket(bucket)
        try S3Names.validateKey(key)
        let headers: [(name: String, value: String)] = ifMatch.map { [("If-Match", Self.quotedETag($0))] } ?? []
        let response = try await send(S3Request(method: .GET, bucket: bucket, key: key, headers: headers))
        guard response.status == .ok else {
            let errorBody = try await collect(response, limit: Self.maximumXMLBody)
            throw failure(response, body: errorBody, bucket: bucket, key: key)
        }
        let info = S3ObjectInfo(size: try contentLength(of: response), etag: try etag(of: response))
        var received: Int64 = 0
        do {
            for try await buffer in response.body {
                received += Int64(buffer.readableBytes)
                guard received <= info.size else { break }
                let chunk = Array(buffer.readableBytesView)
                do {
                    try body(chunk[...])
                } catch {
                    throw ConsumerError(description: String(describing: error))
                }
            }
        } catch let error as ConsumerError {
            throw .consumerFailed(error.description)
        } catch {
            throw transportError(error)
        }
        guard received == info.size else {
            throw .badResponse(
                status: 200, code: "IncompleteBody",
                message: "object '\(key)' sent \(received) bytes where Content-Length said \(info.size)")
        }
        return info
    }

    /// Deletes the object. Deleting a key that does not exist succeeds, as it does in S3.
    public func deleteObject(bucket: String, key: String) async throws(S3Error) {
        try S3Names.validateBucket(bucket)
        try S3Names.validateKey(key)
        let response = try await send(S3Request(method: .DELETE, bucket: bucket, key: key))
        let body = try await collect(response, limit: Self.maximumXMLBody)
        guard response.status == .noContent || response.status == .ok else {
            throw failure(response, body: body, bucket: bucket, key: key)
        }
    }

    /// A URL anyone can GET the object with, without credentials, for `seconds` (1 to 604,800) from `now`.
    public func presignedGetURL(
        bucket: String, key: String, expiresIn seconds: Int, now: Date = Date()
    ) throws(S3Error) -> String {
        try S3Names.validateBucket(bucket)
        try S3Names.validateKey(key)
        let (host, path) = endpoint.address(bucket: bucket, key: key)
        let request = SigV4Signer.Request(method: "GET", path: path, headers: [("host", host)])
        return try signer.presign(request, base: "\(endpoint.scheme)://\(host)", expiresIn: seconds, date: now)
    }

    // MARK: - Requests

    /// The largest XML answer read (error bodies, multipart answers): S3's are a few hundred bytes.
    static let maximumXMLBody = 1 << 20

    struct S3Request {
        var method: HTTPMethod
        var bucket: String
        var key: String? = nil
        var query: [(name: String, value: String)] = []
        var headers: [(name: String, value: String)] = []
        var body: [UInt8]? = nil
    }

    /// Signs and sends; the response comes back whatever its status (its body still to be read).
    func send(_ request: S3Request) async throws(S3Error) -> HTTPClientResponse {
        let (host, path) = endpoint.address(bucket: request.bucket, key: request.key)
        let signable = SigV4Signer.Request(
            method: request.method.rawValue, path: path, query: request.query,
            headers: [("Host", host)] + request.headers)
        let signed = signer.sign(signable, payload: request.body.map { .bytes($0) } ?? .empty, date: Date())
        let query = signable.encodedQuery
        var outgoing = HTTPClientRequest(
            url: "\(endpoint.scheme)://\(host)\(signable.encodedPath)" + (query.isEmpty ? "" : "?\(query)"))
        outgoing.method = request.method
        for (name, value) in signed.headers { outgoing.headers.add(name: name, value: value) }
        if let body = request.body { outgoing.body = .bytes(ByteBuffer(bytes: body)) }
        if Task.isCancelled { throw .cancelled }
        do {
            return try await httpClient.execute(outgoing, timeout: requestTimeout)
        } catch {
            throw transportError(error)
        }
    }

    /// The response body, up to `limit` bytes (a longer one is a bad response, not a memory exhaustion).
    func collect(_ response: HTTPClientResponse, limit: Int) async throws(S3Error) -> [UInt8] {
        do {
            let buffer = try await response.body.collect(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            throw .badResponse(
                status: Int(response.status.code), code: "BodyTooLarge",
                message: "the answer is longer than the \(limit) bytes expected")
        } catch {
            throw transportError(error)
        }
    }

    func transportError(_ error: any Error) -> S3Error {
        if error is CancellationError || Task.isCancelled { return .cancelled }
        if let error = error as? HTTPClientError, error == .cancelled { return .cancelled }
        return .unreachable(endpoint: endpoint.url, reason: String(describing: error))
    }

    /// The typed error for a non-success answer, from S3's `<Code>` when the body has one, else from the status.
    func failure(_ response: HTTPClientResponse, body: [UInt8], bucket: String, key: String?) -> S3Error {
        let status = Int(response.status.code)
        let parsed = S3ErrorBody(body)
        switch parsed?.code {
        case "NoSuchBucket": return .noSuchBucket(bucket)
        case "NoSuchKey": return .noSuchKey(key ?? "")
        case "PreconditionFailed": return .preconditionFailed(key ?? "")
        case "AccessDenied", "AllAccessDisabled", "AccountProblem":
            return .accessDenied(code: parsed!.code, message: parsed!.message)
        case "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken", "TokenRefreshRequired",
            "InvalidClientTokenId":
            return .invalidCredentials(code: parsed!.code, message: parsed!.message)
        case let code?:
            return .badResponse(status: status, code: code, message: parsed!.message + regionHint(response))
        case nil:
            switch status {
            case 404: return key.map { .noSuchKey($0) } ?? .noSuchBucket(bucket)
            case 412: return .preconditionFailed(key ?? "")
            case 403: return .accessDenied(code: "Forbidden", message: "HTTP 403 without an error body")
            default:
                return .badResponse(
                    status: status, code: "HTTP\(status)",
                    message: "\(response.status.reasonPhrase); no S3 error body"
                        + (body.isEmpty ? "" : " (\(body.count) bytes of something else)") + regionHint(response))
            }
        }
    }

    /// S3 names the bucket's region when a request went to the wrong one (a 301 to a HEAD has no body to say so).
    private func regionHint(_ response: HTTPClientResponse) -> String {
        guard let region = response.headers.first(name: "x-amz-bucket-region"), region != endpoint.region else {
            return ""
        }
        return " (the bucket is in \(region); the client signs for \(endpoint.region))"
    }

    /// A refused HEAD has no body; the equivalent GET's answer names the reason.
    private func explainForbiddenHead(_ probe: S3Request, bucket: String, key: String?) async throws(S3Error)
        -> S3Error
    {
        let response = try await send(probe)
        let body = try await collect(response, limit: Self.maximumXMLBody)
        guard response.status.code >= 300 else {
            return .accessDenied(code: "Forbidden", message: "HEAD refused (HTTP 403) though GET is allowed")
        }
        return failure(response, body: body, bucket: bucket, key: key)
    }

    func etag(of response: HTTPClientResponse) throws(S3Error) -> String {
        guard let value = response.headers.first(name: "ETag"), !value.isEmpty else {
            throw .badResponse(
                status: Int(response.status.code), code: "MissingETag", message: "the answer has no ETag header")
        }
        return Self.unquotedETag(value)
    }

    func contentLength(of response: HTTPClientResponse) throws(S3Error) -> Int64 {
        guard let value = response.headers.first(name: "Content-Length"), let length = Int64(value), length >= 0 else {
            throw .badResponse(
                status: Int(response.status.code), code: "MissingContentLength",
                message: "the answer has no usable Content-Length header")
        }
        return length
    }

    static func unquotedETag(_ etag: String) -> String {
        var value = Substring(etag)
        if value.hasPrefix("W/") { value = value.dropFirst(2) }
        if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = value.dropFirst().dropLast() }
        return String(value)
    }

    static func quotedETag(_ etag: String) -> String { "\"\(unquotedETag(etag))\"" }
}

/// What `headObject` tells, and what a read returns beside the bytes. The ETag is kept without its quotes (an MD5 in
/// hex for a single PUT, `<hex>-<part count>` for a multipart upload); `ifMatch` takes it either way.
public struct S3ObjectInfo: Sendable, Equatable {
    public let size: Int64
    public let etag: String

    public init(size: Int64, etag: String) {
        self.size = size
        self.etag = etag
    }
}

/// Carries the chunk consumer's error out of the body loop, apart from transport errors.
private struct ConsumerError: Error {
    let description: String
}
