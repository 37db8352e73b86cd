// Keys, certificates, the device CA, signing and verification, signing profiles.
// ECDSA P-256 over SHA-256 is the only algorithm: it is what the FreeRTOS OTA agent and the ESP32
// secure boot v1 bootloader both check (../shared/specs/aws-ota-wire.md §7, esp32-formats.md §5.1).

/// The one code-signing algorithm SwiftOTA supports, named as in the AWS signing profile.
public enum CodeSigningAlgorithm: String, Sendable {
    case ecdsaP256SHA256 = "ECDSA-P256-SHA256"
}
