import CodeSigning
import Crypto
import ESP32Formats
import ESP32Simulator
import TestSupport

/// Signed images and chips for the simulator tests.
enum Fixtures {
    static let key = P256.Signing.PrivateKey()
    static let rawKey = PublicKeyCoding.encode(key.publicKey, format: .raw)

    /// An app image with a secure boot v1 block by `signer` (the fused key by default).
    static func image(
        _ version: String, secureVersion: UInt32 = 0, payload: Int = 20_000, signer: P256.Signing.PrivateKey = key
    ) throws -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<payload).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let image = try AppImageBuilder.application(
            descriptor: AppDescriptor(secureVersion: secureVersion, version: version, projectName: "sim"),
            payload: bytes, secureBootV1Padding: true)
        return try SecureBootV1Signing.sign(image: image, with: SoftwareSigningKey(signer))
    }

    /// The file an update delivers: a padded app image without the secure boot block (the device appends it).
    static func updateFile(_ version: String, secureVersion: UInt32 = 0, payload: Int = 250_000) throws -> [UInt8] {
        var generator = SeededGenerator(seed: UInt64(payload) ^ UInt64(secureVersion))
        let bytes = (0..<payload).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return try AppImageBuilder.application(
            descriptor: AppDescriptor(secureVersion: secureVersion, version: version, projectName: "sim"),
            payload: bytes, secureBootV1Padding: true)
    }

    static func chip(antiRollback: Bool = false, factoryVersion: String = "1.0.0") throws -> SimulatedChip {
        try SimulatedChip.manufacture(
            factoryImage: try image(factoryVersion), secureBootKey: rawKey, antiRollback: antiRollback)
    }

    /// Writes `image` to the passive slot and sets it as the boot partition, as an OTA does.
    static func install(_ image: [UInt8], on chip: SimulatedChip, after boot: BootOutcome) throws -> Partition {
        let ops = try chip.operations(after: boot)
        let slot = ops.nextUpdatePartition
        try ops.begin(slot, size: image.count)
        try ops.write(slot, offset: 0, image)
        try ops.end(slot, efuses: chip.efuses)
        try ops.setBootPartition(slot, efuses: chip.efuses)
        return slot
    }
}
