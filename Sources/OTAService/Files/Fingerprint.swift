import Crypto
import Foundation

/// Lowercase hex SHA-256: blob ids and certificate fingerprints.
func sha256Hex(_ bytes: [UInt8]) -> String {
    SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
}
