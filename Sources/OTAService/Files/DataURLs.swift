import Foundation
import Synchronization

// The `update_data_url` of an HTTP update, made fresh each time a job document is delivered (aws-ota-wire.md §4.2,
// §8): a presigned GET when the file is an object in a bucket, otherwise a signed URL on the service's own HTTPS
// port. The stored document holds `placeholder` instead, as AWS stores its `${aws:iot:s3-presigned-url:…}`.

public final class DataURLs: Sendable {
    /// What a stored job document says where the delivered one carries a URL.
    public static let placeholder = "${swiftota:data-url}"
    /// AWS's limits for `presignedUrlConfig.expiresInSec`; its OTA default is 1800.
    public static let expiryRange = 60...3600

    let store: any FileStore
    let signer: DataURLSigner
    public let expirySeconds: Int
    /// `https://host:port`, known once the API listens (its port may be chosen by the system).
    private let base = Mutex<String?>(nil)

    public init(store: any FileStore, signer: DataURLSigner, expirySeconds: Int = 1800) {
        self.store = store
        self.signer = signer
        self.expirySeconds = expirySeconds
    }

    public func setBase(_ url: String) {
        let trimmed = url.hasSuffix("/") ? String(url.dropLast()) : url
        base.withLock { $0 = trimmed }
    }

    public var baseURL: String? { base.withLock { $0 } }

    /// A URL for `file` issued to `thing` at `now` (seconds since 1970).
    public func url(for file: StoredFile, thing: String, now: Int64) throws -> String {
        if let presigned = try store.presignedURL(
            for: file, expiresIn: expirySeconds, now: Date(timeIntervalSince1970: TimeInterval(now)))
        {
            return presigned
        }
        guard let base = baseURL else {
            throw OTAServiceError.unavailable("HTTP delivery needs the HTTPS API, which is off")
        }
        let expires = now + Int64(expirySeconds)
        return base + "/data/" + file.id + "?" + signer.query(fileID: file.id, thing: thing, expires: expires)
    }
}
