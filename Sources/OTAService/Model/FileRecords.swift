// Files in the file store and the signing profiles that sign them.

public enum FileKind: String, Sendable, Codable, CaseIterable {
    /// An ESP-IDF app image: validated on upload, its descriptor recorded.
    case app
    /// Any other partition's content (filesystem, configuration data): stored as bytes.
    case data
}

/// A stored file, addressed by the SHA-256 of its content.
public struct StoredFile: Sendable, Equatable, Codable {
    /// Lowercase hex SHA-256 of the content; also its name in a content-addressed store.
    public var id: String
    public var name: String
    public var size: Int64
    public var kind: FileKind
    public var version: String?
    public var secureVersion: Int?
    public var projectName: String?
    public var createdAt: Int64
    /// `s3://bucket/key` when the bytes are an object in a bucket; nil in the local store.
    public var location: String?
    /// The object's entity tag when its SHA-256 was checked: reads ask for exactly that object.
    public var etag: String?

    public init(
        id: String, name: String, size: Int64, kind: FileKind, version: String? = nil, secureVersion: Int? = nil,
        projectName: String? = nil, createdAt: Int64, location: FileLocation = .local
    ) {
        self.id = id
        self.name = name
        self.size = size
        self.kind = kind
        self.version = version
        self.secureVersion = secureVersion
        self.projectName = projectName
        self.createdAt = createdAt
        self.location = location.location
        self.etag = location.etag
    }
}

/// A named way to sign: platform, algorithm, the certificate devices verify with and, for "sign it for me",
/// the key file the service signs with (nil: only custom signatures, verified against the certificate).
public struct SigningProfileRecord: Sendable, Equatable, Codable {
    public var name: String
    public var platform: String
    public var algorithm: String
    public var certificatePEM: String
    public var keyPath: String?
    /// What the job document's `certfile` says (the PKCS#11 label or path on the device).
    public var certificatePathOnDevice: String
    public var createdAt: Int64

    public init(
        name: String, platform: String = "esp32", algorithm: String = "ECDSA-P256-SHA256", certificatePEM: String,
        keyPath: String?, certificatePathOnDevice: String = "Code Verify Key", createdAt: Int64
    ) {
        self.name = name
        self.platform = platform
        self.algorithm = algorithm
        self.certificatePEM = certificatePEM
        self.keyPath = keyPath
        self.certificatePathOnDevice = certificatePathOnDevice
        self.createdAt = createdAt
    }
}
