// Where code-signing keys live. Callers sign through `CodeSigningKey` and never touch key material, so a
// PKCS#11 token or a cloud KMS can implement it later without changing them (the same shape as
// swift-certificates' CustomPrivateKey).
import Crypto

/// Anything that can produce an ECDSA P-256 signature over a SHA-256 digest.
public protocol CodeSigningKey: Sendable {
    var publicKey: P256.Signing.PublicKey { get }
    /// Signs a digest the caller computed, so that large files are hashed once, while streaming.
    func signature(forDigest digest: SHA256.Digest) throws -> P256.Signing.ECDSASignature
}

/// A key held in this process's memory, loaded from a key file.
public struct SoftwareSigningKey: CodeSigningKey {
    private let key: P256.Signing.PrivateKey

    public init(_ key: P256.Signing.PrivateKey) {
        self.key = key
    }

    public var publicKey: P256.Signing.PublicKey { key.publicKey }

    public func signature(forDigest digest: SHA256.Digest) throws -> P256.Signing.ECDSASignature {
        try key.signature(for: digest)
    }
}

/// How a signing profile names its key. Files today; other stores add cases and a resolver, not call sites.
public enum KeyReference: Sendable, Equatable, Codable {
    case file(path: String)

    /// Loads the key this reference names.
    public func resolve(allowInsecurePermissions: Bool = false) throws(CodeSigningError) -> any CodeSigningKey {
        switch self {
        case .file(let path):
            return SoftwareSigningKey(
                try KeyFiles.readPrivateKey(at: path, allowInsecurePermissions: allowInsecurePermissions))
        }
    }
}
