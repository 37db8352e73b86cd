// A walker over CBOR items (RFC 8949) that reads heads, keys and strings in place and skips what it does not need,
// without decoding anything into a tree: the agent reads its data messages with it (OTAAgent's StreamCodec.swift),
// and the service the GetStream requests agents send (StreamRequestCommonShape.swift). It is as strict as
// CBORDecoder about each item it walks (well-formed heads, lengths within the message, valid UTF-8 in text strings,
// nesting at most 16 deep); what a map may hold — repeated keys, how many pairs — is its caller's to check.

/// Walks CBOR items (RFC 8949) without decoding them into values.
public struct CBORReader {
    public static let maximumDepth = 16

    private let bytes: [UInt8]
    private var position = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Whether every byte of the message has been read (nothing may follow the map).
    public var isAtEnd: Bool { position == bytes.count }

    /// An initial byte and its argument (nil: indefinite length); nil when truncated or reserved.
    public mutating func head() -> (major: UInt8, info: UInt8, argument: UInt64?)? {
        guard position < bytes.count else { return nil }
        let initial = bytes[position]
        position += 1
        let info = initial & 0x1F
        var count = 0
        switch info {
        case 0..<24: return (initial >> 5, info, UInt64(info))
        case 24: count = 1
        case 25: count = 2
        case 26: count = 4
        case 27: count = 8
        case 31: return (initial >> 5, info, nil)
        default: return nil
        }
        guard bytes.count - position >= count else { return nil }
        var value: UInt64 = 0
        for _ in 0..<count {
            value = value << 8 | UInt64(bytes[position])
            position += 1
        }
        return (initial >> 5, info, value)
    }

    /// Consumes a break (0xFF) when one is next; an indefinite container ends there. False at the end of input too,
    /// so that the next read fails.
    public mutating func atBreak() -> Bool {
        guard position < bytes.count, bytes[position] == 0xFF else { return false }
        position += 1
        return true
    }

    /// A map key: the byte of a one-byte text key, 0 for any other well-formed key; nil when malformed.
    public mutating func key() -> UInt8? {
        let start = position
        if let head = head(), head.major == 3 {
            guard let text = string(major: 3, head: head) else { return nil }
            return text.count == 1 ? text[text.startIndex] : 0
        }
        position = start
        return skipItem(depth: 1) ? 0 : nil
    }

    /// A byte (major 2) or text (major 3) string: a slice of the message when definite, the joined chunks when
    /// indefinite; nil when malformed or (text) not UTF-8.
    public mutating func string(major: UInt8) -> ArraySlice<UInt8>? {
        guard let head = head() else { return nil }
        return string(major: major, head: head)
    }

    private mutating func string(major: UInt8, head: (major: UInt8, info: UInt8, argument: UInt64?))
        -> ArraySlice<UInt8>?
    {
        guard head.major == major else { return nil }
        var result: ArraySlice<UInt8>
        if let length = head.argument {
            guard let chunk = take(length) else { return nil }
            result = chunk
        } else {
            var joined: [UInt8] = []
            while !atBreak() {
                guard let chunkHead = self.head(), chunkHead.major == major, let length = chunkHead.argument,
                    let chunk = take(length)
                else { return nil }
                joined += chunk
            }
            result = joined[...]
        }
        return major == 2 || isValidUTF8(result) ? result : nil
    }

    private mutating func take(_ length: UInt64) -> ArraySlice<UInt8>? {
        guard length <= UInt64(bytes.count - position) else { return nil }
        defer { position += Int(length) }
        return bytes[position..<position + Int(length)]
    }

    /// Skips one well-formed item of any kind.
    public mutating func skipItem(depth: Int) -> Bool {
        guard depth <= Self.maximumDepth, let head = head() else { return false }
        switch head.major {
        case 0, 1: return head.argument != nil
        case 2, 3: return string(major: head.major, head: head) != nil
        case 4, 5:
            let itemsPerEntry: UInt64 = head.major == 5 ? 2 : 1
            guard let count = head.argument else {
                while !atBreak() {
                    for _ in 0..<itemsPerEntry where !skipItem(depth: depth + 1) { return false }
                }
                return true
            }
            // Every item takes at least a byte: a count beyond the input fails before looping over it.
            guard count <= UInt64(bytes.count - position) else { return false }
            for _ in 0..<count * itemsPerEntry where !skipItem(depth: depth + 1) { return false }
            return true
        case 6: return head.argument != nil && skipItem(depth: depth + 1)
        default:
            // Simple values and floats: a one-byte simple value below 32 must use the short form; 31 is a break
            // where none can be.
            if head.info == 24 { return head.argument.map { $0 >= 32 } ?? false }
            return head.info != 31
        }
    }
}

/// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF, no truncated sequence.
public func isValidUTF8(_ bytes: ArraySlice<UInt8>) -> Bool {
    var index = bytes.startIndex
    while index < bytes.endIndex {
        let lead = bytes[index]
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0x00..<0x80:
            index += 1
            continue
        case 0xC2...0xDF: length = 2
        case 0xE0:
            length = 3
            low = 0xA0
        case 0xED:
            length = 3
            high = 0x9F
        case 0xE1...0xEF: length = 3
        case 0xF0:
            length = 4
            low = 0x90
        case 0xF4:
            length = 4
            high = 0x8F
        case 0xF1...0xF3: length = 4
        default: return false
        }
        guard index + length <= bytes.endIndex, bytes[index + 1] >= low, bytes[index + 1] <= high else { return false }
        for offset in 2..<max(length, 2) where bytes[index + offset] & 0xC0 != 0x80 { return false }
        index += length
    }
    return true
}
