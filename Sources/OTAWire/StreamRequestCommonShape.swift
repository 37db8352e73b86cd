// GetStream requests in the shape agents send them — a definite map of up to 23 pairs with one-letter text keys,
// unsigned integers, a text client token and a byte-string bitmap (aws-ota-wire.md §5.1) — read in place with
// `CBORReader`, without building a CBOR tree first. The tree cost about 1.9 % of the service's CPU in `ota bench
// fleet` (one request per 8 blocks); a request is a few dozen bytes. Anything else — an unknown key, a value of
// another type, an indefinite-length map, a repeated key, bytes after the map — is left to the general decoder, so
// the answer to every request, and every error, is the general decoder's.

extension StreamRequest {
    /// The request when `payload` has the common shape (with the errors `StreamRequestFields` finds in it, as the
    /// general decoder would report them); nil otherwise.
    static func decodeCommonShape(_ payload: [UInt8]) -> Result<StreamRequest, StreamRequestError>? {
        guard payload.count <= DecodingLimits.deviceRequest.maximumBytes else { return nil }
        var reader = CBORReader(payload)
        guard let map = reader.head(), map.major == 5, let count = map.argument, count < 24 else { return nil }
        // Read whole before any field is judged, as the general decoder does: a client token over 64 bytes in the
        // first pair must not be reported for a map whose later bytes are malformed (that is InvalidCbor).
        var pairs: [(String, CBORValue)] = []
        var seen: UInt8 = 0
        for _ in 0..<count {
            guard let letter = reader.key(), let (key, bit) = commonKey(letter), seen & bit == 0,
                let value = commonValue(of: letter, from: &reader)
            else { return nil }
            seen |= bit
            pairs.append((key, value))
        }
        guard reader.isAtEnd else { return nil }
        var fields = StreamRequestFields()
        do {
            for (key, value) in pairs { try fields.set(key, value) }
            return .success(try fields.request())
        } catch {
            return .failure(error)
        }
    }

    /// A request key's name, and its bit in the repeated-key check.
    private static func commonKey(_ letter: UInt8) -> (String, UInt8)? {
        switch letter {
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

    /// The value of key `letter` when it has the type the request expects; nil otherwise.
    private static func commonValue(of letter: UInt8, from reader: inout CBORReader) -> CBORValue? {
        switch letter {
        case UInt8(ascii: "c"): return reader.string(major: 3).map { .text(String(decoding: $0, as: UTF8.self)) }
        case UInt8(ascii: "b"): return reader.string(major: 2).map { .bytes(Array($0)) }
        default:
            guard let head = reader.head(), head.major == 0, let number = head.argument else { return nil }
            return .unsigned(number)
        }
    }
}
