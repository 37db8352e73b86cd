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


struct CertificateView: Encodable {
    var fingerprint: String
    var status: CertificateStatus
    var notAfter: Int64
    var createdAt: Int64

    init(_ certificate: DeviceCertificate) {
        fingerprint = certificate.fingerprint
        status = certificate.status
        notAfter = certificate.notAfter
        createdAt = certificate.createdAt
    }
}

struct ThingView: Encodable {
    var name: String
    var attributes: [String: String]
    var createdAt: Int64
    var lastSeenAt: Int64?
    var groups: [String]
    var certificates: [CertificateView]
}

struct GroupView: Encodable {
    var name: String
    var description: String
    var query: String?
    var createdAt: Int64
    var members: [String]
}

struct IssuedCertificateView: Encodable {
    var fingerprint: String
    var certificatePEM: String
    /// Present only when the service generated the key; it is not stored and cannot be fetched again.
    var privateKeyPEM: String?
    var caCertificatePEM: String
}

struct SigningProfileView: Encodable {
    var name: String
    var platform: String
    var algorithm: String
    var certificatePEM: String
    var signsForYou: Bool
    var certificatePathOnDevice: String
    var createdAt: Int64

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
struct JobProgress: Encodable {
    var pending = 0
    var queued = 0
    var inProgress = 0
    var succeeded = 0
    var failed = 0
    var rejected = 0
    var timedOut = 0
    var canceled = 0
    var removed = 0

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

struct JobView: Encodable {
    var job: Job
    var progress: JobProgress
}

struct UpdateView: Encodable {
    var update: OTAUpdate
    var job: Job?
    var progress: JobProgress?
}

struct HealthView: Encodable {
    var status: String
    var mqttPort: Int
    var connectedDevices: Int
}
