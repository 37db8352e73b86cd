// The registry's records: things, groups and device certificates. Times are seconds since the epoch, as on
// the Jobs wire.

/// A device. The name is its MQTT client id, its certificate's CN and a topic level.
public struct Thing: Sendable, Equatable, Codable {
    public var name: String
    public var attributes: [String: String]
    public var createdAt: Int64
    public var lastSeenAt: Int64?

    public init(name: String, attributes: [String: String] = [:], createdAt: Int64, lastSeenAt: Int64? = nil) {
        self.name = name
        self.attributes = attributes
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
    }
}

/// A static group (members added by name) or a dynamic one (members are the things matching `query`).
public struct ThingGroup: Sendable, Equatable, Codable {
    public var name: String
    public var description: String
    /// Dynamic groups only: `attr=value` terms joined by ` AND ` (see `GroupQuery`).
    public var query: String?
    public var createdAt: Int64

    public init(name: String, description: String = "", query: String? = nil, createdAt: Int64) {
        self.name = name
        self.description = description
        self.query = query
        self.createdAt = createdAt
    }

    public var isDynamic: Bool { query != nil }
}

public enum CertificateStatus: String, Sendable, Codable {
    case active = "ACTIVE"
    case revoked = "REVOKED"
}

/// A device certificate the gateway accepts (issued by the service CA or registered), bound to one thing.
public struct DeviceCertificate: Sendable, Equatable, Codable {
    /// Lowercase hex SHA-256 of the DER.
    public var fingerprint: String
    public var thingName: String
    public var pem: String
    public var status: CertificateStatus
    public var notAfter: Int64
    public var createdAt: Int64
    /// The intermediate CA certificates registered with it (PEM), so that it links to a registered root even when
    /// the device leaves them out of its handshake.
    public var chainPEM: String?
    /// The registered CA it chains to (fingerprint), found when it was registered or when that CA was: deactivating
    /// that CA refuses it whatever chain the device presents, or none (a resumed TLS session).
    public var issuerCA: String?

    public init(
        fingerprint: String, thingName: String, pem: String, status: CertificateStatus, notAfter: Int64,
        createdAt: Int64, chainPEM: String? = nil, issuerCA: String? = nil
    ) {
        self.fingerprint = fingerprint
        self.thingName = thingName
        self.pem = pem
        self.status = status
        self.notAfter = notAfter
        self.createdAt = createdAt
        self.chainPEM = chainPEM
        self.issuerCA = issuerCA
    }
}

public enum CACertificateStatus: String, Sendable, Codable {
    case active = "ACTIVE"
    /// Kept on record, trusted for nothing: devices whose certificates chain to it are refused.
    case inactive = "INACTIVE"
}

/// A CA the operator registered (AWS: RegisterCACertificate): device certificates it issued may connect once each
/// is registered to a thing, for as long as the CA is active.
public struct CACertificate: Sendable, Equatable, Codable {
    /// Lowercase hex SHA-256 of the DER.
    public var fingerprint: String
    /// The CA's subject, for people (`ota ca list`).
    public var subject: String
    public var pem: String
    public var status: CACertificateStatus
    public var notAfter: Int64
    public var createdAt: Int64

    public init(
        fingerprint: String, subject: String, pem: String, status: CACertificateStatus, notAfter: Int64,
        createdAt: Int64
    ) {
        self.fingerprint = fingerprint
        self.subject = subject
        self.pem = pem
        self.status = status
        self.notAfter = notAfter
        self.createdAt = createdAt
    }
}
