// X.509 certificates and CSRs in PEM or DER, as openssl writes them.
import Crypto
import Foundation
import SwiftASN1
import X509

public enum CertificateCoding {
    /// The first certificate in PEM or DER bytes.
    public static func decode(_ bytes: [UInt8]) throws(CodeSigningError) -> Certificate {
        guard let first = try decodeChain(bytes).first else { throw .malformedCertificate("no certificate found") }
        return first
    }

    /// Every certificate in a PEM bundle (leaf first, as TLS servers send them), or the one in a DER file.
    public static func decodeChain(_ bytes: [UInt8]) throws(CodeSigningError) -> [Certificate] {
        if PEM.looksLikePEM(bytes) {
            let documents = try PEM.documents(String(decoding: bytes, as: UTF8.self)).filter {
                $0.discriminator == "CERTIFICATE"
            }
            guard !documents.isEmpty else { throw .malformedCertificate("the PEM file holds no CERTIFICATE block") }
            return try documents.map { document throws(CodeSigningError) in try parse(document.derBytes) }
        }
        return [try parse(bytes)]
    }

    static func parse(_ der: [UInt8]) throws(CodeSigningError) -> Certificate {
        do {
            return try Certificate(derEncoded: der)
        } catch {
            throw .malformedCertificate("the DER structure is invalid (\(error))")
        }
    }

    public static func encode(_ certificate: Certificate) throws(CodeSigningError) -> String {
        do {
            return try certificate.serializeAsPEM().pemString + "\n"
        } catch {
            throw .malformedCertificate("cannot serialize (\(error))")
        }
    }

    public static func decodeCSR(_ bytes: [UInt8]) throws(CodeSigningError) -> CertificateSigningRequest {
        var der = bytes
        if PEM.looksLikePEM(bytes) {
            let documents = try PEM.documents(String(decoding: bytes, as: UTF8.self))
            guard let document = documents.first(where: { $0.discriminator.hasSuffix("CERTIFICATE REQUEST") }) else {
                throw .malformedCSR("the PEM file holds no CERTIFICATE REQUEST block")
            }
            der = document.derBytes
        }
        do {
            return try CertificateSigningRequest(derEncoded: der)
        } catch {
            throw .malformedCSR("the DER structure is invalid (\(error))")
        }
    }

    public static func encodeCSR(_ csr: CertificateSigningRequest) throws(CodeSigningError) -> String {
        do {
            return try csr.serializeAsPEM().pemString + "\n"
        } catch {
            throw .malformedCSR("cannot serialize (\(error))")
        }
    }
}

extension Certificate {
    /// The certificate's key as a P-256 signing key; other key types are `unsupportedKeyType`.
    public func p256PublicKey() throws(CodeSigningError) -> P256.Signing.PublicKey {
        if let key = P256.Signing.PublicKey(publicKey) { return key }
        var serializer = DER.Serializer()
        if (try? serializer.serialize(publicKey)) != nil {
            try KeyInspection.publicKeyAlgorithm(der: serializer.serializedBytes).requireP256()
        }
        throw .unsupportedKeyType(found: "the certificate's key, which is not P-256")
    }

    /// Throws unless `date` lies within the validity period.
    public func checkValidity(at date: Date) throws(CodeSigningError) {
        if date < notValidBefore {
            throw .certificateNotYetValid(notBefore: ISO8601DateFormatter().string(from: notValidBefore))
        }
        if date > notValidAfter {
            throw .certificateExpired(notAfter: ISO8601DateFormatter().string(from: notValidAfter))
        }
    }

    /// Throws `certificateKeyMismatch` unless the certificate was issued for `key`.
    public func checkMatches(_ key: P256.Signing.PublicKey) throws(CodeSigningError) {
        guard try p256PublicKey().rawRepresentation == key.rawRepresentation else { throw .certificateKeyMismatch }
    }

    /// The subject's common name, if it has one.
    public var commonName: String? { subject.commonName }
}
