// The two CBOR messages of a stream download (aws-ota-wire.md §5), written and read in place: the GetStream
// request the FreeRTOS agent sends, byte for byte, and the data message, whose block is returned as a slice of
// the received message rather than copied out of a decoded tree.
//
// The data message is walked with OTAWire's CBORReader, as strict as its CBORDecoder (well-formed items, lengths
// within the message, valid UTF-8 in text strings, nesting at most 16 deep, nothing after the map), with one
// difference on purpose: a repeated key is refused only among the four the agent reads (`f`, `i`, `l`, `p`).
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
