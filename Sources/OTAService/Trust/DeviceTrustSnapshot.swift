import CodeSigning
import X509

// What the gateway trusts at one moment: the service CA, the registered CAs with their status, and the registered
// device certificates with the thing each is bound to. A value: one handshake judges against one snapshot, and a
// registry change builds the next one without touching a handshake in flight.

public struct DeviceTrustSnapshot: Sendable {
    /// A registered device certificate: whose it is, and whether it may still connect.
    public struct Binding: Sendable, Equatable {
        public var thing: String
        public var status: CertificateStatus
        /// The registered CA it is linked to, whose status then decides too.
        public var issuerCA: String?

        public init(thing: String, status: CertificateStatus, issuerCA: String? = nil) {
            self.thing = thing
            self.status = status
            self.issuerCA = issuerCA
        }
    }

    public struct Authority: Sendable {
        public var fingerprint: String
        public var certificate: Certificate
        public var isActive: Bool
    }

    public var serviceCA: Certificate
    /// Registered CAs by fingerprint.
    public private(set) var authorities: [String: Authority] = [:]
    /// Registered device certificates by fingerprint.
    public private(set) var certificates: [String: Binding] = [:]

    public init(serviceCA: Certificate, authorities: [CACertificate] = [], certificates: [DeviceCertificate] = []) {
        self.serviceCA = serviceCA
        for authority in authorities { apply(.authority(authority)) }
        for certificate in certificates { apply(.certificate(certificate)) }
    }

    /// Takes in a record the registry just stored.
    public mutating func apply(_ change: TrustChange) {
        switch change {
        case .certificate(let record):
            // A revocation is final (the registry refuses to register a revoked certificate again): a change that
            // committed earlier but is applied later must not bring the certificate back.
            guard certificates[record.fingerprint]?.status != .revoked else { return }
            certificates[record.fingerprint] = Binding(
                thing: record.thingName, status: record.status, issuerCA: record.issuerCA)
        case .authority(let record):
            // The PEM was parsed when it was registered; should it no longer parse, the CA trusts nothing.
            guard let certificate = try? CertificateCoding.decode(Array(record.pem.utf8)) else {
                authorities[record.fingerprint] = nil
                return
            }
            authorities[record.fingerprint] = Authority(
                fingerprint: record.fingerprint, certificate: certificate, isActive: record.status == .active)
        }
    }

    func authorities(active: Bool) -> [Certificate] {
        authorities.values.filter { $0.isActive == active }.map(\.certificate)
    }

    /// The things of the registered certificates linked to CA `fingerprint`.
    func things(linkedTo fingerprint: String) -> [String] {
        certificates.values.filter { $0.issuerCA == fingerprint }.map(\.thing)
    }

    /// Whether the registered CA `fingerprint` is active (false when it is not registered at all).
    func isActive(authority fingerprint: String) -> Bool {
        authorities[fingerprint]?.isActive ?? false
    }

    func fingerprint(ofAuthority certificate: Certificate) -> String? {
        authorities.values.first { $0.certificate == certificate }?.fingerprint
    }
}

/// A registry write the gateway's trust must follow at once (registration, revocation, CA status).
public enum TrustChange: Sendable {
    case certificate(DeviceCertificate)
    case authority(CACertificate)
}
