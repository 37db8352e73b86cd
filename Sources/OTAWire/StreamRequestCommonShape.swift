// GetStream requests in the shape agents send them — a definite map of up to 23 pairs with one-letter text keys,
// unsigned integers, a text client token and a byte-string bitmap (aws-ota-wire.md §5.1) — read straight from the
// bytes, without building a CBOR tree first. The tree cost about 1.9 % of the service's CPU in `ota bench fleet`
// (one request per 8 blocks); a request is a few dozen bytes. Anything else — an unknown key, a value of another
// type, an indefinite length, a repeated key, bytes after the map, an invalid token — is left to the general decoder,
// so the answer to every request, and every error, is the general decoder's.

extension StreamRequest {
    /// The request when `payload` has the common shape (with the errors `StreamRequestFields` finds in it, as the
    /// general decoder would report them); nil otherwise.
    static func decodeCommonShape(_ payload: [UInt8]) -> Result<StreamRequest, StreamRequestError>? {
        guard payload.count <= DecodingLimits.deviceRequest.maximumBytes else { return nil }
        var reader = CommonShapeReader(bytes: payload)
        guard let pairs = reader.pairs(), reader.position == payload.count else { return nil }
        var fields = StreamRequestFields()
        do {
            for (key, value) in pairs { try fields.set(key, value) }
            return .success(try fields.request())
        } catch {
            return .failure(error)
        }
    }
}

private struct CommonShapeReader {
    let bytes: [UInt8]
    var position = 0

    /// The map's pairs in order; nil when the bytes are not of the common shape.
    mutating func pairs() -> [(String, CBORValue)]? {
        guard let count = head(major: 5), count < 24 else { return nil }
        var pairs: [(String, CBORValue)] = []
        var seen: UInt8 = 0
        for _ in 0..<count {
            guard head(major: 3) == 1, position < bytes.count else { return nil }
            let letter = bytes[position]
            position += 1
            guard let (key, bit) = Self.key(letter), seen & bit == 0 else { return nil }
            seen |= bit
            guard let value = value(for: letter) else { return nil }
            pairs.append((key, value))
        }
        return pairs
    }

    /// A known key's name, and its bit in the repeated-key check.
    private static func key(_ byte: UInt8) -> (String, UInt8)? {
        switch byte {
        case UInt8(ascii: "c"): return ("c", 1)
        case UInt8(ascii: "s"): return ("s", 2)
        case UInt8(ascii: "f"): return ("f", 4)
        case UInt8(ascii: "l"): return ("l", 8)
        case UInt8(ascii: "o"): return ("o", 16)
        case UInt8(ascii: "n"): return ("n", 32)
        case UInt8(ascii: "b"): return ("b", 64)
        default: return nil
        }
    }

    private mutating func value(for key: UInt8) -> CBORValue? {
        switch key {
        case UInt8(ascii: "c"):
            guard let utf8 = string(major: 3) else { return nil }
            let text = String(decoding: utf8, as: UTF8.self)
            return text.utf8.elementsEqual(utf8) ? .text(text) : nil
        case UInt8(ascii: "b"): return string(major: 2).map { .bytes(Array($0)) }
        default: return head(major: 0).map { .unsigned($0) }
        }
    }

    /// The argument of an item of `major` type with a definite argument; nil for anything else.
    private mutating func head(major: UInt8) -> UInt64? {
        guard position < bytes.count, bytes[position] >> 5 == major else { return nil }
        let info = bytes[position] & 0x1F
        position += 1
        let size: Int
        switch info {
        case 0..<24: return UInt64(info)
        case 24: size = 1
        case 25: size = 2
        case 26: size = 4
        case 27: size = 8
        default: return nil
        }
        guard bytes.count - position >= size else { return nil }
        var value: UInt64 = 0
        for _ in 0..<size {
            value = value << 8 | UInt64(bytes[position])
            position += 1
        }
        return value
    }

    /// A definite-length byte or text string's bytes.
    private mutating func string(major: UInt8) -> ArraySlice<UInt8>? {
        guard let length = head(major: major), length <= UInt64(bytes.count - position) else { return nil }
        defer { position += Int(length) }
        return bytes[position..<position + Int(length)]
    }
}
