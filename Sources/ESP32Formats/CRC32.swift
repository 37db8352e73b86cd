// The ESP32 ROM's crc32_le: reflected CRC-32 (polynomial 0xEDB88320) that inverts its seed on entry and
// its result on exit, exactly like zlib's crc32(seed, data). esp32-formats.md §3.1 and pitfall 1:
// otadata uses seed 0xFFFFFFFF (so the register effectively starts at 0), which is NOT the standard CRC-32.

public enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 {
            value = (value & 1) != 0 ? (value >> 1) ^ 0xEDB8_8320 : value >> 1
        }
        return value
    }

    /// `crc32_le(seed, bytes)` as the ROM and zlib define it. Seed 0 gives the standard CRC-32.
    public static func checksum<C: Collection>(_ bytes: C, seed: UInt32 = 0) -> UInt32 where C.Element == UInt8 {
        var register = ~seed
        for byte in bytes {
            register = table[Int((register ^ UInt32(byte)) & 0xFF)] ^ (register >> 8)
        }
        return ~register
    }
}
