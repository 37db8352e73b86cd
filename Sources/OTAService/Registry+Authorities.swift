import CodeSigning
import SwiftASN1
import X509

// Registered CAs (AWS: RegisterCACertificate, UpdateCACertificate). Device certificates a registered CA issued
// connect once each is registered to a thing, for as long as the CA is ACTIVE; deactivating it turns all of them
// away at their next connection, and activating it again lets them back.

extension Registry {
    public func registerCA(certificatePEM: String) async throws -> CACertificate {
        let certificate = try CertificateCoding.decode(Array(certificatePEM.utf8))
        guard case .isCertificateAuthority? = try certificate.extensions.basicConstraints else {
            throw OTAServiceError.invalidRequest(
                "'\(certificate.subject)' is not a CA certificate (basicConstraints cA is not set)")
        }
        if let usage = try certificate.extensions.keyUsage, !usage.keyCertSign {
            throw OTAServiceError.invalidRequest(
                "'\(certificate.subject)' may not sign certificates (its keyUsage lacks keyCertSign)")
        }
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        let record = CACertificate(
            fingerprint: sha256Hex(serializer.serializedBytes), subject: certificate.subject.description,
            pem: try CertificateCoding.encode(certificate), status: .active,
            notAfter: Int64(certificate.notValidAfter.timeIntervalSince1970), createdAt: engine.now())
        try await store.write { writer in
            guard try writer.caCertificate(fingerprint: record.fingerprint) == nil else {
                throw OTAServiceError.conflict("CA \(record.fingerprint) is already registered")
            }
            try writer.save(record)
        }
        trustChanged(.authority(record))
        return record
    }

    public func setStatus(ofCA fingerprint: String, to status: CACertificateStatus) async throws -> CACertificate {
        let changed = try await store.write { writer in
            guard var authority = try writer.caCertificate(fingerprint: fingerprint) else {
                throw OTAServiceError.notFound("CA \(fingerprint)")
            }
            authority.status = status
            try writer.save(authority)
            return authority
        }
        trustChanged(.authority(changed))
        return changed
    }
}
