// The secure boot v1 signature block, esp_secure_boot_sig_block_t (esp32-formats.md §5.1): 68 bytes appended
// right after the image (no alignment): u32 version (LE, 0) then r‖s, each 32 bytes big-endian.
// This file only places and reads the block; making and checking the ECDSA signature belongs to CodeSigning.

public struct SecureBootV1SignatureBlock: Equatable, Sendable {
    public static let size = 68
    /// ESP_SECURE_BOOT_V1_ECDSA: the only version the v1 bootloader accepts.
    public static let ecdsaVersion: UInt32 = 0

    public let version: UInt32
    /// r‖s, big-endian, 64 bytes: the same layout as CryptoKit's `P256.Signing.ECDSASignature.rawRepresentation`.
    public let signature: [UInt8]

    public init(signature: [UInt8]) throws(ImageFormatError) {
        guard signature.count == 64 else {
            throw .invalidArgument("a secure boot v1 signature is 64 bytes (r‖s), got \(signature.count)")
        }
        self.version = Self.ecdsaVersion
        self.signature = signature
    }

    /// Reads a block at `offset` when 68 bytes are there and the version word is 0 (an ECDSA v1 block);
    /// erased flash (0xFF...) or other trailing data is not a block.
    public init?(locatedIn bytes: [UInt8], at offset: Int) {
        guard offset >= 0, bytes.count - offset >= Self.size, bytes.loadLE32(at: offset) == Self.ecdsaVersion else {
            return nil
        }
        self.version = Self.ecdsaVersion
        self.signature = Array(bytes[offset + 4..<offset + Self.size])
    }

    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Self.size)
        out.appendLE32(version)
        out.append(contentsOf: signature)
        return out
    }
}

extension AppImage {
    /// The image (through its appended hash) followed by `block`, dropping any block or trailing bytes it had —
    /// what the ESP32 OTA port writes to the slot and what `espsecure sign-data --version 1` produces.
    public func appendingSecureBootBlock(_ block: SecureBootV1SignatureBlock) -> [UInt8] {
        Array(signedBytes) + block.encoded()
    }
}
