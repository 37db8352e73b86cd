import CodeSigning
import Crypto
import ESP32Formats

// Whether an app partition holds an image this chip may run (esp32-formats.md §1, §4, §5.1): header, segments,
// checksum and SHA-256; with secure boot, a v1 signature block by the key whose digest is fused; with
// anti-rollback, a secure_version at least the fused one. The same check the bootloader and esp_ota_end make.

public struct ImageCheck {
    /// The raw X‖Y key the bootloader carries (nil: secure boot not built in).
    public let verificationKey: [UInt8]?
    /// Verdicts on partitions whose bytes have not changed since (shared by the copies of this check).
    private let verdicts = VerdictCache()

    public init(verificationKey: [UInt8]?) {
        self.verificationKey = verificationKey
    }

    /// The verdict on the image in `partition`. A real chip hashes the partition each time (at boot, in
    /// esp_ota_end, in esp_ota_set_boot_partition); the verdict is a function of the bytes and the eFuses, so the
    /// simulator hashes once and reuses the verdict while neither changed — same result, a fraction of the
    /// time when thousands of chips share two cores. Any flash operation in the range, or an eFuse burn, re-checks.
    public func verify(
        _ partition: Partition, layout: FlashLayout, flash: SimulatedFlash, efuses: EFuses
    ) throws -> Verdict {
        let key = VerdictCache.Key(
            offset: Int(partition.offset), size: Int(partition.size),
            lastChange: flash.lastChange(in: Int(partition.offset), length: Int(partition.size)), efuses: efuses)
        if let known = verdicts.lookup(key, flash: flash) { return try known.get() }
        let result = Result { try verify(try layout.partitionBytes(partition, from: flash), efuses: efuses) }
        verdicts.store(result, for: key, flash: flash)
        return try result.get()
    }

    /// What a good image tells: its descriptor and length (with the secure boot block). Not the bytes, which the
    /// flash holds: a verdict is kept per chip, and thousands of chips must not keep copies of their images.
    public struct Verdict {
        public let descriptor: AppDescriptor
        public let totalLength: Int
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
        return Verdict(descriptor: descriptor, totalLength: image.totalLength)
    }
}

/// The last verdict per partition of each flash (compared by identity; entries keep their flash alive).
final class VerdictCache: @unchecked Sendable {
    struct Key: Equatable {
        let offset: Int
        let size: Int
        let lastChange: Int
        let efuses: EFuses
    }

    private var entries: [(key: Key, flash: SimulatedFlash, result: Result<ImageCheck.Verdict, any Error>)] = []

    func lookup(_ key: Key, flash: SimulatedFlash) -> Result<ImageCheck.Verdict, any Error>? {
        entries.first { $0.key == key && $0.flash === flash }?.result
    }

    func store(_ result: Result<ImageCheck.Verdict, any Error>, for key: Key, flash: SimulatedFlash) {
        entries.removeAll { $0.flash === flash && $0.key.offset == key.offset }
        entries.append((key, flash, result))
        // A chip has a handful of app partitions; more entries mean a check shared across chips (tests).
        if entries.count > 8 { entries.removeFirst(entries.count - 8) }
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
