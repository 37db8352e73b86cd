import Foundation

// Where file contents live. Files are addressed by the SHA-256 of their content (`StoredFile.id`); a store checks
// that id whenever it hands contents back, so an object damaged on disk or changed behind the service's back is
// refused with a clear error, never served. Stores: the data directory (`LocalFileStore`, the default) and an
// S3-compatible bucket (`S3FileStore`).

public protocol FileStore: Sendable {
    /// Where the files live, for the start banner and errors ("local /var/lib/ota/blobs", "s3://bucket/prefix").
    var summary: String { get }

    /// Checks at start that the store is reachable and usable (bucket exists, credentials accepted).
    func check() async throws

    /// Stores `bytes`, whose SHA-256 hex is `id`; returns where they went. Storing the same content again is a
    /// no-op that returns the same place.
    func put(_ bytes: [UInt8], id: String) async throws -> FileLocation

    /// The whole content of `file`, checked against its id.
    func contents(of file: StoredFile) async throws -> [UInt8]

    /// A URL a device can GET (with `Range`) for `expiresIn` seconds without other credentials, when the store can
    /// issue one itself (S3 presigned); nil when the service serves the bytes on its own HTTPS port.
    func presignedURL(for file: StoredFile, expiresIn seconds: Int, now: Date) throws -> String?
}

/// Where a stored file's bytes are: nil location means content-addressed in the local store.
public struct FileLocation: Sendable, Equatable {
    /// `s3://bucket/key`, or nil for the local store.
    public var location: String?
    /// The object's entity tag when it was stored or imported: later ranged reads ask for exactly that object.
    public var etag: String?

    public init(location: String? = nil, etag: String? = nil) {
        self.location = location
        self.etag = etag
    }

    public static let local = FileLocation()
}

/// A store that can take in an object someone else put there (S3: `ota files import s3://bucket/key`).
public protocol ObjectImporting: FileStore {
    /// The bytes of the object at `url` (at most `maximumBytes`), read once; the caller stores them as any upload.
    func importObject(at url: String, maximumBytes: Int) async throws -> [UInt8]
}
