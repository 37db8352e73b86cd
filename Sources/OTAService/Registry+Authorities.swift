import CodeSigning
import Foundation
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
        try await linkRegisteredCertificates(to: record)
        return record
    }

    /// Device certificates registered before their CA was link to it now, so that deactivating it reaches them.
    private func linkRegisteredCertificates(to authority: CACertificate) async throws {
        let unlinked = try await store.read { try $0.deviceCertificates().filter { $0.issuerCA == nil } }
        var found: [String] = []
        for certificate in unlinked {
            guard let leaf = try? CertificateCoding.decode(Array(certificate.pem.utf8)) else { continue }
            let intermediates = certificate.chainPEM.flatMap { try? CertificateCoding.decodeChain(Array($0.utf8)) }
            if await Self.link(leaf, intermediates: intermediates ?? [], to: [authority]) != nil {
                found.append(certificate.fingerprint)
            }
        }
        guard !found.isEmpty else { return }
        let fingerprints = found
        let linked = try await store.write { writer in
            try fingerprints.compactMap { fingerprint -> DeviceCertificate? in
                guard var certificate = try writer.certificate(fingerprint: fingerprint), certificate.issuerCA == nil
                else { return nil }
                certificate.issuerCA = authority.fingerprint
                try writer.save(certificate)
                return certificate
            }
        }
        for certificate in linked { trustChanged(.certificate(certificate)) }
    }

    /// The registered CA (fingerprint) `leaf` chains to through `intermediates`, active or not; nil when none.
    static func link(_ leaf: Certificate, intermediates: [Certificate], to authorities: [CACertificate]) async
        -> String?
    {
        for authority in authorities {
            guard let root = try? CertificateCoding.decode(Array(authority.pem.utf8)) else { continue }
            if await DeviceTrustPolicy.root(of: leaf, CertificateStore(intermediates), among: [root], at: Date()) != nil
            {
                return authority.fingerprint
            }
        }
        return nil
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
