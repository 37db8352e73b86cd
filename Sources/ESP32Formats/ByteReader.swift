// Little-endian reading and writing over byte arrays. Every ESP-IDF on-flash format is little-endian
// (esp32-formats.md, preamble); big-endian appears only inside the secure-boot signature (r‖s).

/// Reads little-endian integers from a byte array, never past its end.
/// A read past the end returns nil; callers turn that into their own typed "truncated" error.
struct ByteReader {
    let bytes: [UInt8]
    private(set) var offset: Int

    init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }

    mutating func readU8() -> UInt8? {
        guard remaining >= 1 else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func readU16() -> UInt16? {
        guard remaining >= 2 else { return nil }
        defer { offset += 2 }
        return UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
    }

    mutating func readU32() -> UInt32? {
        guard remaining >= 4 else { return nil }
        defer { offset += 4 }
        return bytes.loadLE32(at: offset)
    }

    mutating func readBytes(_ count: Int) -> [UInt8]? {
        guard count >= 0, remaining >= count else { return nil }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    mutating func skip(_ count: Int) -> Bool {
        guard count >= 0, remaining >= count else { return false }
        offset += count
        return true
    }
}

extension Array where Element == UInt8 {
    /// The little-endian u32 at `offset`; the caller has checked the bounds.
    public func loadLE32(at offset: Int) -> UInt32 {
        UInt32(self[offset]) | UInt32(self[offset + 1]) << 8 | UInt32(self[offset + 2]) << 16
            | UInt32(self[offset + 3]) << 24
    }

    mutating func appendLE16(_ value: UInt16) {
        append(UInt8(truncatingIfNeeded: value))
        append(UInt8(truncatingIfNeeded: value >> 8))
    }

    public mutating func appendLE32(_ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) {
            append(UInt8(truncatingIfNeeded: value >> UInt32(shift)))
        }
    }

    /// Appends `text` as UTF-8, NUL-padded to exactly `width` bytes (C `char[width]`).
    /// Returns false, appending nothing, when the text does not fit with `reserveTerminator` room for a NUL.
    mutating func appendFixedString(_ text: String, width: Int, reserveTerminator: Bool) -> Bool {
        let utf8 = Array(text.utf8)
        guard utf8.count <= width - (reserveTerminator ? 1 : 0) else { return false }
        append(contentsOf: utf8)
        append(contentsOf: repeatElement(0, count: width - utf8.count))
        return true
    }
}

/// Decodes a NUL-padded C string field: the bytes up to the first NUL (or all of them), as UTF-8.
func decodeFixedString<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
    let end = bytes.firstIndex(of: 0) ?? bytes.endIndex
    return String(decoding: bytes[bytes.startIndex..<end], as: UTF8.self)
}

/// Lower-case hexadecimal, the way esptool and sha256sum print digests.
public func hexString<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(bytes.underestimatedCount * 2)
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: out, as: UTF8.self)
}

/// The bytes of lower-case hexadecimal text (as `hexString` writes it); nil for anything else.
public func hexBytes(_ text: String) -> [UInt8]? {
    let digits = Array(text.utf8)
    guard digits.count % 2 == 0 else { return nil }
    func value(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        default: return nil
        }
    }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(digits.count / 2)
    for index in stride(from: 0, to: digits.count, by: 2) {
        guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
        bytes.append(high << 4 | low)
    }
    return bytes
}

/// `0x0000abcd`-style formatting used in messages and `image info`.
func hex32(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}

func hex(_ value: some BinaryInteger) -> String { "0x" + String(value, radix: 16) }
