import CodeSigning
import Crypto
import Foundation

extension Updates {
    /// A demo signing profile: a new P-256 key in `keyDirectory/<name>.key` (0600) and a self-signed code-signing
    /// certificate for it, valid ten years. Production profiles bring a CA-issued certificate instead.
    public func createGeneratedSigningProfile(
        name: String, keyDirectory: String, certificatePathOnDevice: String?
    ) async throws -> SigningProfileRecord {
        guard Names.isUpdateID(name) else {
            throw OTAServiceError.invalidRequest("signing profile name '\(name)' must be 1–56 of a-z A-Z 0-9 _ -")
        }
        let keyPath = keyDirectory + "/" + name + ".key"
        guard !FileManager.default.fileExists(atPath: keyPath) else {
            throw OTAServiceError.conflict("a key for signing profile \(name) exists at \(keyPath)")
        }
        try FileManager.default.createDirectory(
            atPath: keyDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let key = P256.Signing.PrivateKey()
        let certificate = try CertificateAuthority.selfSignedCodeSigningCertificate(
            key: key, commonName: "SwiftOTA code signing (\(name))", validity: Validity(days: 3650))
        try KeyFiles.writePrivateKey(key, to: keyPath)
        do {
            return try await createSigningProfile(
                name: name, certificatePEM: try CertificateCoding.encode(certificate), keyPath: keyPath,
                certificatePathOnDevice: certificatePathOnDevice)
        } catch {
            try? FileManager.default.removeItem(atPath: keyPath)
            throw error
        }
    }
}
