// A signing profile names how files for a platform get signed: the algorithm, the code-signing certificate
// devices verify with, and where the key is. Without a key reference the profile only verifies signatures
// that users make themselves (AWS's "custom code signing").
import Foundation
import X509

/// The one code-signing algorithm SwiftOTA supports, named as AWS names it.
public enum CodeSigningAlgorithm: String, Sendable, Codable {
    case ecdsaP256SHA256 = "ECDSA-P256-SHA256"
}

public struct SigningProfile: Sendable, Equatable, Codable {
    public static let supportedPlatforms = ["esp32"]

    public var name: String
    public var platform: String
    public var algorithm: CodeSigningAlgorithm
    /// The code-signing certificate, PEM: its key is what devices verify `sig-sha256-ecdsa` with.
    public var certificatePEM: String
    public var key: KeyReference?

    public init(
        name: String, platform: String = "esp32", certificatePEM: String, key: KeyReference?
    ) throws(CodeSigningError) {
        let allowed = name.unicodeScalars.allSatisfy {
            $0.isASCII && ($0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0))
        }
        guard (2...64).contains(name.count), allowed else {
            throw .invalidArgument("a signing profile name is 2 to 64 letters, digits or underscores, got '\(name)'")
        }
        guard Self.supportedPlatforms.contains(platform) else {
            throw .invalidArgument(
                "platform '\(platform)' is not supported; use one of: \(Self.supportedPlatforms.joined(separator: ", "))"
            )
        }
        self.name = name
        self.platform = platform
        self.algorithm = .ecdsaP256SHA256
        self.certificatePEM = certificatePEM
        self.key = key
        _ = try certificate().p256PublicKey()
    }

    public func certificate() throws(CodeSigningError) -> Certificate {
        try CertificateCoding.decode(Array(certificatePEM.utf8))
    }

    /// "Sign it for me": signs with the profile's key after checking it matches a currently valid certificate.
    public func sign(_ bytes: [UInt8], at date: Date = Date(), allowInsecureKeyPermissions: Bool = false)
        throws(CodeSigningError) -> CodeSignature
    {
        guard let key else {
            throw .invalidArgument(
                "signing profile '\(name)' has no key: supply a signature made with its certificate's key")
        }
        return try CodeSigner.sign(
            bytes, with: try key.resolve(allowInsecurePermissions: allowInsecureKeyPermissions),
            certificate: try certificate(), at: date)
    }

    /// A user's own signature, checked against the profile's certificate before anything is accepted.
    public func verify(_ bytes: [UInt8], signature: CodeSignature, at date: Date = Date()) throws(CodeSigningError) {
        try CodeSigner.verify(bytes, signature: signature, certificate: try certificate(), at: date)
    }
}
