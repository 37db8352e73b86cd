import Crypto
import ESP32Formats

/// Lowercase hex SHA-256: blob ids and certificate fingerprints.
func sha256Hex(_ bytes: [UInt8]) -> String {
    hexString(SHA256.hash(data: bytes))
}
