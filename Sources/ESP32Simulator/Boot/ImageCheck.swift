import CodeSigning
import Crypto
import ESP32Formats

// Whether an app partition holds an image this chip may run (esp32-formats.md §1, §4, §5.1): header, segments,
// checksum and SHA-256; with secure boot, a v1 signature block by the key whose digest is fused; with
// anti-rollback, a secure_version at least the fused one. The same check the bootloader and esp_ota_end make.

public struct ImageCheck {
    /// The raw X‖Y key the bootloader carries (nil: secure boot not built in).
    public let verificationKey: [UInt8]?

    public init(verificationKey: [UInt8]?) {
        self.verificationKey = verificationKey
    }

    public struct Verdict {
        public let image: AppImage
        public let descriptor: AppDescriptor
    }

    public func verify(_ bytes: [UInt8], efuses: EFuses) throws -> Verdict {
        let image = try AppImage(bytes: bytes)
        try image.validate()
        let descriptor = try image.appDescriptor()
        if let digest = efuses.secureBootKeyDigest {
            guard let key = verificationKey, Array(SHA256.hash(data: key)) == digest else {
                throw ImageCheckError.keyNotFused
            }
            let publicKey = try PublicKeyCoding.decode(key)
            try SecureBootV1Signing.verify(image: bytes, publicKey: publicKey)
        }
        if efuses.antiRollbackEnabled, !efuses.permits(secureVersion: Int(descriptor.secureVersion)) {
            throw ImageCheckError.secureVersionTooLow(image: Int(descriptor.secureVersion), fused: efuses.secureVersion)
        }
        return Verdict(image: image, descriptor: descriptor)
    }
}

public enum ImageCheckError: Error, Equatable, CustomStringConvertible {
    case keyNotFused
    case secureVersionTooLow(image: Int, fused: Int)

    public var description: String {
        switch self {
        case .keyNotFused: return "the bootloader's verification key does not match the fused secure boot digest"
        case .secureVersionTooLow(let image, let fused):
            return "secure_version \(image) is below the eFuse's \(fused) (anti-rollback)"
        }
    }
}
