// Request bodies and response views of the management API (/api/v1). Records the store keeps are returned as
// they are; views add what a client needs in one call (a thing's groups and certificates, a job's progress).

struct CreateThingBody: Decodable {
    var name: String
    var attributes: [String: String]?
}

struct SetAttributesBody: Decodable {
    var attributes: [String: String]
}

struct CreateGroupBody: Decodable {
    var name: String
    var description: String?
    /// `attr=value AND …`: a dynamic group; absent: a static group.
    var query: String?
}

struct AddMemberBody: Decodable {
    var thing: String
}

struct IssueCertificateBody: Decodable {
    /// A PEM certificate signing request; absent: the service generates the key and returns it once.
    var csr: String?
}

struct RegisterCertificateBody: Decodable {
    var certificatePEM: String
}

struct CreateSigningProfileBody: Decodable {
    var name: String
    /// The code-signing certificate devices verify with. Absent with `generateKey`: self-signed (demo).
    var certificatePEM: String?
    /// A key file on the service's machine for "sign it for me" (must be 0600).
    var keyPath: String?
    /// Create a key under DATA/signing/ and a self-signed certificate for it.
    var generateKey: Bool?
    var certificatePathOnDevice: String?
}

struct CancelBody: Decodable {
    var force: Bool?
}

/// POST /files/import: an object already in the bucket.
struct ImportFileBody: Decodable {
    var url: String
    var name: String?
    var kind: String?
}

public struct CertificateView: Codable, Sendable {
    public var fingerprint: String
    public var status: CertificateStatus
    public var notAfter: Int64
    public var createdAt: Int64

    init(_ certificate: DeviceCertificate) {
        fingerprint = certificate.fingerprint
        status = certificate.status
        notAfter = certificate.notAfter
        createdAt = certificate.createdAt
    }
}

public struct ThingView: Codable, Sendable {
    public var name: String
    public var attributes: [String: String]
    public var createdAt: Int64
    public var lastSeenAt: Int64?
    public var groups: [String]
    public var certificates: [CertificateView]
}

public struct GroupView: Codable, Sendable {
    public var name: String
    public var description: String
    public var query: String?
    public var createdAt: Int64
    public var members: [String]
}

public struct IssuedCertificateView: Codable, Sendable {
    public var fingerprint: String
    public var certificatePEM: String
    /// Present only when the service generated the key; it is not stored and cannot be fetched again.
    public var privateKeyPEM: String?
    public var caCertificatePEM: String
}

public struct SigningProfileView: Codable, Sendable {
    public var name: String
    public var platform: String
    public var algorithm: String
    public var certificatePEM: String
    public var signsForYou: Bool
    public var certificatePathOnDevice: String
    public var createdAt: Int64

    init(_ record: SigningProfileRecord) {
        name = record.name
        platform = record.platform
        algorithm = record.algorithm
        certificatePEM = record.certificatePEM
        signsForYou = record.keyPath != nil
        certificatePathOnDevice = record.certificatePathOnDevice
        createdAt = record.createdAt
    }
}

/// Execution counts of a job by status, plus targets the rollout has not released yet.
public struct JobProgress: Codable, Sendable {
    public var pending = 0
    public var queued = 0
    public var inProgress = 0
    public var succeeded = 0
    public var failed = 0
    public var rejected = 0
    public var timedOut = 0
    public var canceled = 0
    public var removed = 0

    init(_ executions: [JobExecution], pending: Int) {
        self.pending = pending
        for execution in executions {
            switch execution.status {
            case .queued: queued += 1
            case .inProgress: inProgress += 1
            case .succeeded: succeeded += 1
            case .failed: failed += 1
            case .rejected: rejected += 1
            case .timedOut: timedOut += 1
            case .canceled: canceled += 1
            case .removed: removed += 1
            }
        }
    }
}

public struct JobView: Codable, Sendable {
    public var job: Job
    public var progress: JobProgress
}

public struct UpdateView: Codable, Sendable {
    public var update: OTAUpdate
    public var job: Job?
    public var progress: JobProgress?
}

public struct HealthView: Codable, Sendable {
    /// "ok", or "degraded" (HTTP 503) while the database cannot be reached.
    public var status: String
    public var mqttPort: Int
    public var connectedDevices: Int
    /// "ok" or "unavailable", from a read of the store on every call.
    public var database: String
    /// Whether this instance runs the rollout scheduler ("leader") or another one does ("standby").
    public var scheduler: String
}

/// GET /api/v1/status: how the service is set up and what delivery cost the file store (for operators and the
/// fleet bench; behind the token, unlike /healthz, because it names the bucket).
public struct ServiceStatusView: Codable, Sendable {
    public var fileStore: String
    /// Reads of whole files from the store since start (each one GET per MiB chunk for S3).
    public var fileStoreReads: Int
    /// How URLs on this service's own data plane begin (nil when the API is off).
    public var dataURLBase: String?
    public var dataURLExpirySeconds: Int
    /// "sqlite" or the PostgreSQL URL without its password.
    public var database: String
    /// PostgreSQL transactions this instance has run since it started (nil with SQLite).
    public var databaseTransactions: Int?
    /// PostgreSQL statements (round trips) this instance has sent since it started (nil with SQLite).
    public var databaseStatements: Int?
    /// Devices' reports this instance committed since it started, and in how many transactions (group commit).
    public var reportCommits: ReportCommitCounts?
    /// What this instance has shed or refused to protect itself since it started.
    public var protection: ProtectionCountsView
}
