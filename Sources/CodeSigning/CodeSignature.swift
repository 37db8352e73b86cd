// The OTA file signature (docs/specs/aws-ota-wire.md §7): ECDSA P-256 over SHA-256 of the whole file,
// ASN.1 DER SEQUENCE{r, s}, base64 in the job document's `sig-sha256-ecdsa`.
import Crypto
import Foundation
import X509

public struct CodeSignature: Sendable, Equatable {
    public let signature: P256.Signing.ECDSASignature

    public init(_ signature: P256.Signing.ECDSASignature) {
        self.signature = signature
    }

    /// From DER bytes or their base64 text (surrounding whitespace ignored), whichever `bytes` holds.
    public init(encoded bytes: [UInt8]) throws(CodeSigningError) {
        let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if bytes.first == 0x30, let parsed = try? P256.Signing.ECDSASignature(derRepresentation: bytes) {
            self.init(parsed)
        } else if let decoded = Data(base64Encoded: text) {
            try self.init(der: Array(decoded))
        } else {
            throw .malformedSignature("neither DER nor base64 of DER")
        }
    }

    public init(der: [UInt8]) throws(CodeSigningError) {
        do {
            signature = try P256.Signing.ECDSASignature(derRepresentation: der)
        } catch {
            throw .malformedSignature("not an ASN.1 DER SEQUENCE of two integers")
        }
    }

    public var der: [UInt8] { Array(signature.derRepresentation) }
    /// What `sig-sha256-ecdsa` carries.
    public var base64: String { Data(signature.derRepresentation).base64EncodedString() }
    /// r‖s, 64 bytes big-endian: the secure boot v1 block's layout.
    public var raw: [UInt8] { Array(signature.rawRepresentation) }

    public static func == (lhs: CodeSignature, rhs: CodeSignature) -> Bool { lhs.raw == rhs.raw }
}

public enum CodeSigner {
    public static func digest(of bytes: [UInt8]) -> SHA256.Digest { SHA256.hash(data: bytes) }

    public static func sign(_ bytes: [UInt8], with key: some CodeSigningKey) throws(CodeSigningError) -> CodeSignature {
        try sign(digest: digest(of: bytes), with: key)
    }

    public static func sign(digest: SHA256.Digest, with key: some CodeSigningKey) throws(CodeSigningError)
        -> CodeSignature
    {
        do {
            return CodeSignature(try key.signature(forDigest: digest))
        } catch let error as CodeSigningError {
            throw error
        } catch {
            throw .invalidArgument("the signing key failed: \(error)")
        }
    }

    /// Signs with a key and its certificate, refusing a certificate that is not the key's or not valid at `date`.
    public static func sign(
        _ bytes: [UInt8], with key: some CodeSigningKey, certificate: Certificate, at date: Date = Date()
    ) throws(CodeSigningError) -> CodeSignature {
        try certificate.checkMatches(key.publicKey)
        try certificate.checkValidity(at: date)
        return try sign(bytes, with: key)
    }

    /// Throws `signatureMismatch` unless `signature` is `publicKey`'s signature over SHA-256 of `bytes`.
    public static func verify(
        _ bytes: [UInt8], signature: CodeSignature, publicKey: P256.Signing.PublicKey
    ) throws(CodeSigningError) {
        guard publicKey.isValidSignature(signature.signature, for: digest(of: bytes)) else { throw .signatureMismatch }
    }

    /// What the device does, plus the certificate checks the device skips: the certificate must be valid at `date`.
    public static func verify(
        _ bytes: [UInt8], signature: CodeSignature, certificate: Certificate, at date: Date = Date()
    ) throws(CodeSigningError) {
        try certificate.checkValidity(at: date)
        try verify(bytes, signature: signature, publicKey: certificate.p256PublicKey())
    }
}
