// The device PKI: a CA that issues device certificates (CN = thing name, clientAuth) and server certificates
// (serverAuth, SANs), signs CSRs from devices that keep their own key, and self-signed code-signing
// certificates for demos. Validity periods are explicit; serial numbers are random 16-byte values.
import Crypto
import Foundation
import SwiftASN1
import X509

/// A validity period: from `start` (default now, less five minutes for clock skew) for `days` days.
public struct Validity: Sendable, Equatable {
    public var notBefore: Date
    public var notAfter: Date

    public init(notBefore: Date, notAfter: Date) {
        self.notBefore = notBefore
        self.notAfter = notAfter
    }

    public init(days: Int, from start: Date = Date()) {
        notBefore = start.addingTimeInterval(-300)
        notAfter = start.addingTimeInterval(Double(days) * 86_400)
    }
}

/// What a certificate will be used for; decides its extensions.
public enum CertificateProfile: Sendable, Equatable {
    /// A thing's TLS client certificate: CN = thing name, extendedKeyUsage clientAuth.
    case device(thingName: String)
    /// The service's TLS server certificate: extendedKeyUsage serverAuth, SANs for host names and IP addresses.
    case server(hosts: [String])
    /// A code-signing certificate: keyUsage digitalSignature, extendedKeyUsage codeSigning.
    case codeSigning(commonName: String)
}

public struct CertificateAuthority: Sendable {
    public let certificate: Certificate
    private let key: P256.Signing.PrivateKey

    /// Pairs a CA certificate with its key; refuses a pair that does not match or a certificate that is not a CA.
    public init(certificate: Certificate, key: P256.Signing.PrivateKey) throws(CodeSigningError) {
        try certificate.checkMatches(key.publicKey)
        guard case .isCertificateAuthority? = try? certificate.extensions.basicConstraints else {
            throw .invalidArgument("the certificate is not a CA certificate (basicConstraints cA is not set)")
        }
        self.certificate = certificate
        self.key = key
    }

    /// A new self-signed CA (pathLen 0: it issues end-entity certificates only).
    public static func create(
        commonName: String, key: P256.Signing.PrivateKey, validity: Validity
    ) throws(CodeSigningError) -> CertificateAuthority {
        let name = try distinguishedName(commonName: commonName, organization: "SwiftOTA")
        let publicKey = Certificate.PublicKey(key.publicKey)
        let certificate = try build {
            try Certificate(
                version: .v3, serialNumber: randomSerialNumber(), publicKey: publicKey,
                notValidBefore: validity.notBefore,
                notValidAfter: validity.notAfter, issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                    SubjectKeyIdentifier(hash: publicKey)
                }, issuerPrivateKey: Certificate.PrivateKey(key))
        }
        return try CertificateAuthority(certificate: certificate, key: key)
    }

    /// Issues a certificate for `publicKey` under `profile`.
    public func issue(
        _ profile: CertificateProfile, publicKey: P256.Signing.PublicKey, validity: Validity
    ) throws(CodeSigningError) -> Certificate {
        try Self.make(
            profile, publicKey: publicKey, validity: validity, issuer: certificate.subject,
            issuerKeyIdentifier: Self.keyIdentifier(of: certificate), signer: key)
    }

    /// Signs a CSR after checking that it is signed by the key it names and has a P-256 key.
    /// For a device profile the CSR's common name, when present, must be the thing name.
    public func sign(
        _ csr: CertificateSigningRequest, as profile: CertificateProfile, validity: Validity
    ) throws(CodeSigningError) -> Certificate {
        guard let publicKey = P256.Signing.PublicKey(csr.publicKey) else {
            throw .unsupportedKeyType(found: "the CSR's key, which is not P-256")
        }
        guard csr.publicKey.isValidSignature(csr.signature, for: csr) else { throw .csrSignatureInvalid }
        if case .device(let thingName) = profile, let commonName = csr.subject.commonName, commonName != thingName {
            throw .invalidArgument("the CSR asks for CN=\(commonName) but the thing is \(thingName)")
        }
        return try issue(profile, publicKey: publicKey, validity: validity)
    }

    /// A self-signed code-signing certificate for demos (production uses one issued by a CA).
    public static func selfSignedCodeSigningCertificate(
        key: P256.Signing.PrivateKey, commonName: String, validity: Validity
    ) throws(CodeSigningError) -> Certificate {
        let name = try distinguishedName(commonName: commonName, organization: nil)
        return try make(
            .codeSigning(commonName: commonName), publicKey: key.publicKey, validity: validity, issuer: name,
            issuerKeyIdentifier: nil, signer: key)
    }

    static func make(
        _ profile: CertificateProfile, publicKey: P256.Signing.PublicKey, validity: Validity,
        issuer: DistinguishedName, issuerKeyIdentifier: ArraySlice<UInt8>?, signer: P256.Signing.PrivateKey
    ) throws(CodeSigningError) -> Certificate {
        let subjectKey = Certificate.PublicKey(publicKey)
        let subject: DistinguishedName
        switch profile {
        case .device(let thingName):
            try ThingName.validate(thingName)
            subject = try distinguishedName(commonName: thingName, organization: nil)
        case .server(let hosts):
            guard let first = hosts.first else {
                throw .invalidArgument("a server certificate needs at least one host")
            }
            subject = try distinguishedName(commonName: first, organization: "SwiftOTA")
        case .codeSigning(let commonName):
            subject = try distinguishedName(commonName: commonName, organization: nil)
        }
        return try build {
            try Certificate(
                version: .v3, serialNumber: randomSerialNumber(), publicKey: subjectKey,
                notValidBefore: validity.notBefore, notValidAfter: validity.notAfter, issuer: issuer, subject: subject,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try extensions(
                    for: profile, subjectKey: subjectKey, issuerKeyIdentifier: issuerKeyIdentifier),
                issuerPrivateKey: Certificate.PrivateKey(signer))
        }
    }

    static func extensions(
        for profile: CertificateProfile, subjectKey: Certificate.PublicKey, issuerKeyIdentifier: ArraySlice<UInt8>?
    ) throws -> Certificate.Extensions {
        let usage: ExtendedKeyUsage.Usage
        var names: [GeneralName] = []
        switch profile {
        case .device: usage = .clientAuth
        case .codeSigning: usage = .codeSigning
        case .server(let hosts):
            usage = .serverAuth
            names = try hosts.map(generalName)
        }
        return try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true))
            try ExtendedKeyUsage([usage])
            SubjectKeyIdentifier(hash: subjectKey)
            if let issuerKeyIdentifier {
                AuthorityKeyIdentifier(keyIdentifier: issuerKeyIdentifier)
            }
            if !names.isEmpty {
                SubjectAlternativeNames(names)
            }
        }
    }

    /// An IPv4/IPv6 literal becomes an iPAddress SAN, anything else a dNSName.
    static func generalName(_ host: String) throws -> GeneralName {
        if let address = IPAddressBytes.parse(host) {
            return .ipAddress(ASN1OctetString(contentBytes: address[...]))
        }
        guard !host.isEmpty, host.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != 0x2C }) else {
            throw CodeSigningError.invalidArgument("'\(host)' is not a host name or IP address")
        }
        return .dnsName(host)
    }

    static func keyIdentifier(of certificate: Certificate) -> ArraySlice<UInt8> {
        if let identifier = try? certificate.extensions.subjectKeyIdentifier?.keyIdentifier { return identifier }
        return SubjectKeyIdentifier(hash: certificate.publicKey).keyIdentifier
    }

    /// 16 random bytes, positive and without a leading zero byte, so the DER INTEGER is exactly 16 bytes.
    static func randomSerialNumber() -> Certificate.SerialNumber {
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255) }
        bytes[0] = (bytes[0] & 0x7F) | 0x01
        return Certificate.SerialNumber(bytes: bytes)
    }

    static func distinguishedName(commonName: String, organization: String?) throws(CodeSigningError)
        -> DistinguishedName
    {
        guard !commonName.isEmpty, commonName.utf8.count <= 64 else {
            throw .invalidArgument("a common name must be 1 to 64 bytes, got '\(commonName)'")
        }
        return try build {
            try DistinguishedName {
                if let organization { OrganizationName(organization) }
                CommonName(commonName)
            }
        }
    }

    /// Runs a swift-certificates builder, turning its errors into ours.
    static func build<T>(_ body: () throws -> T) throws(CodeSigningError) -> T {
        do {
            return try body()
        } catch let error as CodeSigningError {
            throw error
        } catch {
            throw .malformedCertificate("could not be built: \(error)")
        }
    }
}

/// Thing names as AWS IoT allows them: 1–128 characters of [a-zA-Z0-9:_-]. They become MQTT topic levels,
/// client ids and certificate CNs, so nothing else is let through.
public enum ThingName {
    public static func validate(_ name: String) throws(CodeSigningError) {
        let allowed = name.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                || byte == 0x3A || byte == 0x5F || byte == 0x2D
        }
        guard !name.isEmpty, name.utf8.count <= 128, allowed else {
            throw .invalidArgument("'\(name)' is not a thing name: use 1 to 128 of the characters a-z A-Z 0-9 : _ -")
        }
    }
}

extension DistinguishedName {
    var commonName: String? {
        for rdn in self {
            for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
                return String(describing: attribute.value)
            }
        }
        return nil
    }
}
