import Crypto

// The eFuses the update path depends on (esp32-formats.md §4, §5.1): the digest of the secure-boot public key, the
// anti-rollback secure_version as a thermometer code whose bits only go 0 → 1, and the feature flags.

public enum EFuseError: Error, Equatable, CustomStringConvertible {
    case secureVersionTooLarge(Int)
    case secureVersionBelowFused(requested: Int, fused: Int)
    case alreadyBurned(String)

    public var description: String {
        switch self {
        case .secureVersionTooLarge(let value): return "secure_version \(value) exceeds the 32-bit eFuse field"
        case .secureVersionBelowFused(let requested, let fused):
            return "secure_version \(requested) is below the fused \(fused): eFuse bits cannot be cleared"
        case .alreadyBurned(let what): return "the \(what) eFuse is already burned"
        }
    }
}

public struct EFuses: Equatable, Sendable, Codable {
    /// SHA-256 of the raw X‖Y secure-boot v1 verification key; nil until secure boot is enabled.
    public private(set) var secureBootKeyDigest: [UInt8]?
    /// SECURE_VERSION field (EFUSE_BLK3 bits 128…159): version = number of bits set.
    public private(set) var secureVersionBits: UInt32 = 0
    public private(set) var antiRollbackEnabled = false

    public init() {}

    public var secureBootEnabled: Bool { secureBootKeyDigest != nil }
    public var secureVersion: Int { secureVersionBits.nonzeroBitCount }

    /// Burns secure boot on with the digest of `rawPublicKey` (64 bytes X‖Y). Once only.
    public mutating func enableSecureBoot(rawPublicKey: [UInt8]) throws(EFuseError) {
        guard secureBootKeyDigest == nil else { throw .alreadyBurned("secure boot key digest") }
        secureBootKeyDigest = Array(SHA256.hash(data: rawPublicKey))
    }

    public mutating func enableAntiRollback() {
        antiRollbackEnabled = true
    }

    /// `esp_efuse_check_secure_version`: an app may run when its secure_version is at least the fused one.
    public func permits(secureVersion: Int) -> Bool { secureVersion >= self.secureVersion }

    /// `esp_efuse_update_secure_version`: burns bits up to `value`; equal is a no-op, lower fails.
    public mutating func raiseSecureVersion(to value: Int) throws(EFuseError) {
        guard value <= 32 else { throw .secureVersionTooLarge(value) }
        guard value >= secureVersion else { throw .secureVersionBelowFused(requested: value, fused: secureVersion) }
        secureVersionBits = value == 32 ? UInt32.max : (UInt32(1) << UInt32(value)) - 1
    }
}
