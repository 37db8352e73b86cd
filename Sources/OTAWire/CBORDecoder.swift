// Decodes exactly one CBOR item. Hostile input is expected (a device, or anyone holding a device certificate,
// sends these bytes): lengths are checked against the bytes actually present before anything is allocated, and
// input size, nesting depth and pairs per map are bounded by `DecodingLimits`. Maps with two equal keys are
// refused, as the JSON parser refuses duplicate keys (RFC 8949 §5.6: such a map is not valid), in O(n log n) per
// map (DuplicateKeys.swift).

public struct CBORDecoder {
    private let bytes: [UInt8]
    private let limits: DecodingLimits
    private var position = 0
    private var depth = 0

    private init(_ bytes: [UInt8], limits: DecodingLimits) {
        self.bytes = bytes
        self.limits = limits
    }

    /// The single item `bytes` holds; trailing bytes are an error.
    public static func decode(_ bytes: [UInt8], limits: DecodingLimits = .cbor) throws(CBORError) -> CBORValue {
        guard bytes.count <= limits.maximumBytes else {
            throw CBORError(offset: 0, reason: limits.sizeExceeded(bytes.count), failure: .limitExceeded)
        }
        var decoder = CBORDecoder(bytes, limits: limits)
        let value = try decoder.decodeItem()
        guard decoder.position == bytes.count else { throw decoder.error("unexpected data after the item") }
        return value
    }

    private func error(_ reason: String) -> CBORError { CBORError(offset: position, reason: reason) }

    private func limitError(_ reason: String) -> CBORError {
        CBORError(offset: position, reason: reason, failure: .limitExceeded)
    }

    private mutating func readByte() throws(CBORError) -> UInt8 {
        guard position < bytes.count else { throw error("truncated") }
        defer { position += 1 }
        return bytes[position]
    }

    private mutating func readUInt(byteCount: Int) throws(CBORError) -> UInt64 {
        guard bytes.count - position >= byteCount else { throw error("truncated") }
        var value: UInt64 = 0
        for _ in 0..<byteCount {
            value = value << 8 | UInt64(bytes[position])
            position += 1
        }
        return value
    }

    /// The argument of an initial byte; nil for the indefinite-length marker (additional info 31).
    private mutating func readArgument(_ info: UInt8) throws(CBORError) -> UInt64? {
        switch info {
        case 0..<24: return UInt64(info)
        case 24: return try readUInt(byteCount: 1)
        case 25: return try readUInt(byteCount: 2)
        case 26: return try readUInt(byteCount: 4)
        case 27: return try readUInt(byteCount: 8)
        case 31: return nil
        default: throw error("reserved additional information \(info)")
        }
    }

    /// A length that must fit in what is left of the input (each element takes at least one byte).
    private func checkedCount(_ count: UInt64, elementSize: Int = 1) throws(CBORError) -> Int {
        let remaining = UInt64(bytes.count - position)
        guard count <= remaining / UInt64(elementSize) else { throw error("length \(count) exceeds the input") }
        return Int(count)
    }

    private mutating func decodeItem() throws(CBORError) -> CBORValue {
        let initial = try readByte()
        let major = initial >> 5
        let info = initial & 0x1F
        switch major {
        case 0:
            guard let value = try readArgument(info) else { throw error("indefinite length on an integer") }
            return .unsigned(value)
        case 1:
            guard let value = try readArgument(info) else { throw error("indefinite length on an integer") }
            return .negative(value)
        case 2: return .bytes(try readString(info, major: 2))
        case 3:
            let utf8 = try readString(info, major: 3)
            let text = String(decoding: utf8, as: UTF8.self)
            guard text.utf8.elementsEqual(utf8) else { throw error("invalid UTF-8 in a text string") }
            return .text(text)
        case 4:
            try enter()
            defer { depth -= 1 }
            var items: [CBORValue] = []
            if let count = try readArgument(info) {
                for _ in 0..<(try checkedCount(count)) { items.append(try decodeItem()) }
            } else {
                while try !consumeBreak() { items.append(try decodeItem()) }
            }
            return .array(items)
        case 5:
            try enter()
            defer { depth -= 1 }
            return .map(try decodeMap(info))
        case 6:
            guard let tag = try readArgument(info) else { throw error("indefinite length on a tag") }
            try enter()
            defer { depth -= 1 }
            return .tagged(tag, try decodeItem())
        default:
            return try decodeSimple(info)
        }
    }

    private mutating func enter() throws(CBORError) {
        depth += 1
        guard depth <= limits.maximumDepth else { throw limitError("nesting deeper than \(limits.maximumDepth)") }
    }

    private mutating func decodeMap(_ info: UInt8) throws(CBORError) -> [CBORPair] {
        var pairs: [CBORPair] = []
        if let count = try readArgument(info) {
            let checked = try checkedCount(count, elementSize: 2)
            guard checked <= limits.maximumMembers else {
                throw limitError("a map of \(checked) pairs, at most \(limits.maximumMembers) accepted")
            }
            for _ in 0..<checked { pairs.append(CBORPair(try decodeItem(), try decodeItem())) }
        } else {
            while try !consumeBreak() {
                guard pairs.count < limits.maximumMembers else {
                    throw limitError("more than \(limits.maximumMembers) pairs in a map")
                }
                pairs.append(CBORPair(try decodeItem(), try decodeItem()))
            }
        }
        try checkUniqueKeys(pairs)
        return pairs
    }

    /// Keys are compared by their shortest definite encoding, so that two spellings of one value (an indefinite
    /// and a definite text string, a needlessly long integer head) count as the same key.
    private func checkUniqueKeys(_ pairs: [CBORPair]) throws(CBORError) {
        guard pairs.count > 1 else { return }
        if duplicateKey(pairs.map { $0.key.encoded }) != nil {
            throw error("duplicate key in the map ending here")
        }
    }

    private mutating func consumeBreak() throws(CBORError) -> Bool {
        guard position < bytes.count else { throw error("truncated: missing break") }
        if bytes[position] == 0xFF {
            position += 1
            return true
        }
        return false
    }

    private mutating func readString(_ info: UInt8, major: UInt8) throws(CBORError) -> [UInt8] {
        if let length = try readArgument(info) {
            let count = try checkedCount(length)
            defer { position += count }
            return Array(bytes[position..<position + count])
        }
        // Indefinite length: definite-length chunks of the same major type, then a break.
        var result: [UInt8] = []
        while try !consumeBreak() {
            let chunkHead = try readByte()
            guard chunkHead >> 5 == major, chunkHead & 0x1F != 31 else { throw error("bad chunk in a string") }
            guard let length = try readArgument(chunkHead & 0x1F) else { throw error("bad chunk in a string") }
            let count = try checkedCount(length)
            result.append(contentsOf: bytes[position..<position + count])
            position += count
        }
        return result
    }

    private mutating func decodeSimple(_ info: UInt8) throws(CBORError) -> CBORValue {
        switch info {
        case 0..<24: return .simple(info)
        case 24:
            let value = try readUInt(byteCount: 1)
            guard value >= 32 else { throw error("simple value \(value) must use the short form") }
            return .simple(UInt8(value))
        case 25: return .float(Self.halfToDouble(UInt16(try readUInt(byteCount: 2))))
        case 26: return .float(Double(Float(bitPattern: UInt32(try readUInt(byteCount: 4)))))
        case 27: return .float(Double(bitPattern: try readUInt(byteCount: 8)))
        case 31: throw error("unexpected break")
        default: throw error("reserved additional information \(info)")
        }
    }

    private static func halfToDouble(_ half: UInt16) -> Double {
        let exponent = Int(half >> 10 & 0x1F)
        let mantissa = Double(half & 0x3FF)
        let sign: Double = half & 0x8000 == 0 ? 1 : -1
        switch exponent {
        case 0: return sign * mantissa * 0x1p-24
        case 31: return mantissa == 0 ? sign * Double.infinity : Double.nan
        default: return sign * (mantissa + 1024) * Double(sign: .plus, exponent: exponent - 25, significand: 1)
        }
    }
}
