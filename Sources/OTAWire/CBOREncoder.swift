// Encodes CBOR with the shortest heads (RFC 8949 preferred serialization) and definite lengths.

extension CBORValue {
    public var encoded: [UInt8] {
        var output: [UInt8] = []
        encode(into: &output)
        return output
    }

    public func encode(into output: inout [UInt8]) {
        switch self {
        case .unsigned(let value): CBORHead.write(major: 0, argument: value, into: &output)
        case .negative(let value): CBORHead.write(major: 1, argument: value, into: &output)
        case .bytes(let bytes):
            CBORHead.write(major: 2, argument: UInt64(bytes.count), into: &output)
            output.append(contentsOf: bytes)
        case .text(let text):
            CBORHead.write(major: 3, argument: UInt64(text.utf8.count), into: &output)
            output.append(contentsOf: text.utf8)
        case .array(let items):
            CBORHead.write(major: 4, argument: UInt64(items.count), into: &output)
            for item in items { item.encode(into: &output) }
        case .map(let pairs):
            CBORHead.write(major: 5, argument: UInt64(pairs.count), into: &output)
            for pair in pairs {
                pair.key.encode(into: &output)
                pair.value.encode(into: &output)
            }
        case .tagged(let tag, let value):
            CBORHead.write(major: 6, argument: tag, into: &output)
            value.encode(into: &output)
        case .simple(let value):
            if value < 24 {
                output.append(0xE0 | value)
            } else {
                output.append(contentsOf: [0xF8, value])
            }
        case .float(let value):
            output.append(0xFB)
            let bits = value.bitPattern
            for shift in stride(from: 56, through: 0, by: -8) {
                output.append(UInt8(truncatingIfNeeded: bits >> shift))
            }
        }
    }
}

/// The initial byte and argument of a CBOR item, shortest form.
public enum CBORHead {
    public static func write(major: UInt8, argument: UInt64, into output: inout [UInt8]) {
        let type = major << 5
        switch argument {
        case 0..<24: output.append(type | UInt8(argument))
        case 24..<0x100: output.append(contentsOf: [type | 24, UInt8(argument)])
        case 0x100..<0x1_0000:
            output.append(contentsOf: [type | 25, UInt8(argument >> 8), UInt8(truncatingIfNeeded: argument)])
        case 0x1_0000..<0x1_0000_0000:
            output.append(type | 26)
            for shift in stride(from: 24, through: 0, by: -8) {
                output.append(UInt8(truncatingIfNeeded: argument >> UInt64(shift)))
            }
        default:
            output.append(type | 27)
            for shift in stride(from: 56, through: 0, by: -8) {
                output.append(UInt8(truncatingIfNeeded: argument >> UInt64(shift)))
            }
        }
    }

    /// Bytes the head of `argument` takes.
    public static func size(of argument: UInt64) -> Int {
        switch argument {
        case 0..<24: return 1
        case 24..<0x100: return 2
        case 0x100..<0x1_0000: return 3
        case 0x1_0000..<0x1_0000_0000: return 5
        default: return 9
        }
    }
}
