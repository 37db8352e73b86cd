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
    /// The same, by the SHA-256 of their signed part (tbsCertificate). A fingerprint covers the signature too, and an
    /// ECDSA signature (r, s) has a twin, (r, n − s), that verifies as well and that anyone can compute: a revoked
    /// certificate re-encoded with it has another fingerprint, but not another signed part.
    private var certificatesBySignedPart: [String: Binding] = [:]

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
            let binding = Binding(thing: record.thingName, status: record.status, issuerCA: record.issuerCA)
            if certificates[record.fingerprint]?.status != .revoked {
                certificates[record.fingerprint] = binding
            }
            // The registry parsed the PEM when it stored it; a record that no longer parses is found by its
            // fingerprint only.
            if let certificate = try? CertificateCoding.decode(Array(record.pem.utf8)),
                case let signedPart = Self.signedPart(of: certificate),
                certificatesBySignedPart[signedPart]?.status != .revoked
            {
                certificatesBySignedPart[signedPart] = binding
            }
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

    /// The registration of a presented certificate: by its fingerprint, or by its signed part (an ECDSA twin of a
    /// registered certificate); a revocation found either way wins.
    func binding(of certificate: Certificate, fingerprint: String) -> Binding? {
        let direct = certificates[fingerprint]
        let twin = certificatesBySignedPart[Self.signedPart(of: certificate)]
        if direct?.status == .revoked { return direct }
        if twin?.status == .revoked { return twin }
        return direct ?? twin
    }

    /// The key of `certificatesBySignedPart`: SHA-256 of the tbsCertificate.
    private static func signedPart(of certificate: Certificate) -> String {
        sha256Hex(Array(certificate.tbsCertificateBytes))
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
