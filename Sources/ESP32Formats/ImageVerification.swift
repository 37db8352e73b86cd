// Checksum and appended-hash verification, the checks the bootloader and esp_ota_end run on image data.
import Crypto

/// The outcome of each integrity check, for reports; `AppImage.validate()` turns it into a typed error.
public struct ImageVerification: Equatable, Sendable {
    public let storedChecksum: UInt8
    public let computedChecksum: UInt8
    /// nil when the header says no hash is appended.
    public let storedHash: [UInt8]?
    public let computedHash: [UInt8]

    public var checksumValid: Bool { storedChecksum == computedChecksum }
    public var hashValid: Bool? { storedHash.map { $0 == computedHash } }
    public var isValid: Bool { checksumValid && hashValid != false }
}

extension AppImage {
    /// XOR of every segment data byte, seeded with 0xEF (esp32-formats.md §1.3).
    public func computeChecksum() -> UInt8 {
        var word: UInt64 = 0
        var tail: UInt8 = Self.checksumSeed
        bytes.withUnsafeBytes { raw in
            for segment in segments {
                var offset = segment.dataOffset
                let end = segment.dataRange.upperBound
                // Eight bytes at a time: the fold below makes the result identical to a byte-wise XOR.
                while offset + 8 <= end {
                    word ^= raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                    offset += 8
                }
                while offset < end {
                    tail ^= raw[offset]
                    offset += 1
                }
            }
        }
        var folded = tail
        for shift in stride(from: 0, to: 64, by: 8) {
            folded ^= UInt8(truncatingIfNeeded: word >> UInt64(shift))
        }
        return folded
    }

    /// SHA-256 of every byte from offset 0 through the checksum byte (the "simple hash", §1.4).
    public func computeHash() -> [UInt8] {
        var hasher = SHA256()
        bytes.withUnsafeBytes { raw in
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: raw[0...checksumOffset]))
        }
        return Array(hasher.finalize())
    }

    public func verify() -> ImageVerification {
        ImageVerification(
            storedChecksum: storedChecksum, computedChecksum: computeChecksum(),
            storedHash: storedHash.map(Array.init), computedHash: computeHash())
    }

    /// Throws the first integrity failure: checksum, then hash.
    public func validate() throws(ImageFormatError) {
        let result = verify()
        guard result.checksumValid else {
            throw .checksumMismatch(stored: result.storedChecksum, computed: result.computedChecksum)
        }
        if let stored = result.storedHash, result.hashValid == false {
            throw .hashMismatch(stored: hexString(stored), computed: hexString(result.computedHash))
        }
    }
}
