// Secure boot v1 (esp32-formats.md §5.1): the bootloader checks ECDSA P-256 over SHA-256 of the image through
// its appended hash, stored as r‖s in a 68-byte block right after it, with the raw X‖Y public key in the
// bootloader. The ESP32 OTA port appends the same signature the job document carries (aws-ota-wire.md §7).
import Crypto
import ESP32Formats

public enum SecureBootV1Signing {
    /// The image with a secure boot v1 block signed by `key`, as `espsecure sign-data --version 1` makes it.
    public static func sign(image bytes: [UInt8], with key: some CodeSigningKey) throws(CodeSigningError) -> [UInt8] {
        let image = try parse(bytes)
        let signature = try CodeSigner.sign(Array(image.signedBytes), with: key)
        return try append(signature, to: image)
    }

    /// Appends an already made signature (the OTA signature of the same bytes, on the device).
    public static func append(_ signature: CodeSignature, to image: AppImage) throws(CodeSigningError) -> [UInt8] {
        do {
            return image.appendingSecureBootBlock(try SecureBootV1SignatureBlock(signature: signature.raw))
        } catch {
            throw .invalidImage(error.description)
        }
    }

    /// Checks the block after the image against `publicKey`, as the bootloader does at every boot.
    public static func verify(image bytes: [UInt8], publicKey: P256.Signing.PublicKey) throws(CodeSigningError) {
        let image = try parse(bytes)
        guard let block = image.secureBootBlock else { throw .secureBootBlockMissing }
        let signature: P256.Signing.ECDSASignature
        do {
            signature = try P256.Signing.ECDSASignature(rawRepresentation: block.signature)
        } catch {
            throw .malformedSignature("the block's r‖s is not a valid P-256 signature")
        }
        guard publicKey.isValidSignature(signature, for: SHA256.hash(data: image.signedBytes)) else {
            throw .signatureMismatch
        }
    }

    static func parse(_ bytes: [UInt8]) throws(CodeSigningError) -> AppImage {
        do {
            return try AppImage(bytes: bytes)
        } catch {
            throw .invalidImage(error.description)
        }
    }
}
