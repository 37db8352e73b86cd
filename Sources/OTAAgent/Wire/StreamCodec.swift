// The two CBOR messages of a stream download (aws-ota-wire.md §5), written and read in place: the GetStream
// request the FreeRTOS agent sends, byte for byte, and the data message, whose block is returned as a slice of
// the received message rather than copied out of a decoded tree.
//
// The reader is as strict as OTAWire's CBORDecoder about what it walks (well-formed items, lengths within the
// message, valid UTF-8 in text strings, nesting at most 16 deep, nothing after the map), with one difference on
// purpose: a repeated key is refused only among the four the agent reads (`f`, `i`, `l`, `p`).
import OTAWire

enum StreamCodec {
    /// `{"c":"rdy","f":…,"l":4096,"o":0,"b":<bitmap>,"n":8}`: a definite map of six pairs in generation A's order.
    static func request(fileID: UInt32, bitmap: [UInt8]) -> [UInt8] {
        var request: [UInt8] = [0xA6, 0x61, 0x63, 0x63]
        request.append(ascii: "rdy")
        pair(&request, key: 0x66, major: 0, fileID)
        pair(&request, key: 0x6C, major: 0, UInt32(AgentLimits.blockSize))
        pair(&request, key: 0x6F, major: 0, 0)
        pair(&request, key: 0x62, major: 2, UInt32(bitmap.count))
        request += bitmap
        pair(&request, key: 0x6E, major: 0, UInt32(AgentLimits.blocksPerRequest))
        return request
    }

    /// A one-letter text key and the head of its value, with the shortest argument (RFC 8949 preferred
    /// serialization; every argument here fits 32 bits).
    private static func pair(_ output: inout [UInt8], key: UInt8, major: UInt8, _ argument: UInt32) {
        output.append(0x61)
        output.append(key)
        let type = major << 5
        let length: UInt8 = argument < 24 ? 0 : argument <= 0xFF ? 1 : argument <= 0xFFFF ? 2 : 4
        output.append(length == 0 ? type | UInt8(argument) : type | (length == 4 ? 26 : 23 + length))
        var shift = UInt32(length) * 8
        while shift > 0 {
            shift -= 8
            output.append(UInt8(truncatingIfNeeded: argument >> shift))
        }
    }

    /// The block of a data message: a map with unsigned `f`, `i` and `l` and a byte string `p` of `l` bytes (§5.2);
    /// nil for anything else.
    static func block(_ message: [UInt8]) -> (index: UInt64, payload: ArraySlice<UInt8>)? {
        var reader = CBORReader(message)
        guard let head = reader.head(), head.major == 5 else { return nil }
        var fileID: UInt64?
        var index: UInt64?
        var length: UInt64?
        var payload: ArraySlice<UInt8>?
        var remaining = head.argument ?? UInt64.max  // indefinite: until the break
        while remaining > 0, head.argument != nil || !reader.atBreak() {
            remaining -= 1
            guard let key = reader.key() else { return nil }
            if key == 0x70 {
                guard payload == nil, let bytes = reader.string(major: 2) else { return nil }
                payload = bytes
            } else if key == 0x66 || key == 0x69 || key == 0x6C {
                guard let value = reader.head(), value.major == 0, let number = value.argument else { return nil }
                switch key {
                case 0x66 where fileID == nil: fileID = number
                case 0x69 where index == nil: index = number
                case 0x6C where length == nil: length = number
                default: return nil  // a repeated key
                }
            } else if !reader.skipItem(depth: 1) {
                return nil
            }
        }
        guard reader.isAtEnd, fileID != nil, let index, let length, let payload, UInt64(payload.count) == length
        else { return nil }
        return (index, payload)
    }
}

/// Walks CBOR items (RFC 8949) without decoding them into values.
struct CBORReader {
    static let maximumDepth = 16

    private let bytes: [UInt8]
    private var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Whether every byte of the message has been read (nothing may follow the map).
    var isAtEnd: Bool { position == bytes.count }

    /// An initial byte and its argument (nil: indefinite length); nil when truncated or reserved.
    mutating func head() -> (major: UInt8, info: UInt8, argument: UInt64?)? {
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
    mutating func atBreak() -> Bool {
        guard position < bytes.count, bytes[position] == 0xFF else { return false }
        position += 1
        return true
    }

    /// A map key: the byte of a one-byte text key, 0 for any other well-formed key; nil when malformed.
    mutating func key() -> UInt8? {
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
    mutating func string(major: UInt8) -> ArraySlice<UInt8>? {
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
    mutating func skipItem(depth: Int) -> Bool {
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
