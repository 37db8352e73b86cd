// Compact JSON output, members in insertion order. The FreeRTOS agent extracts `files` from the raw text between
// the brackets, so documents must be compact (aws-ota-wire.md §4.1).

extension JSONValue {
    /// Compact UTF-8 bytes.
    public var serialized: [UInt8] {
        var output: [UInt8] = []
        write(into: &output)
        return output
    }

    /// Compact text.
    public var serializedText: String { String(decoding: serialized, as: UTF8.self) }

    public func write(into output: inout [UInt8]) {
        switch self {
        case .null: output.append(contentsOf: "null".utf8)
        case .bool(let flag): output.append(contentsOf: (flag ? "true" : "false").utf8)
        case .number(let literal): output.append(contentsOf: literal.utf8)
        case .string(let text): writeJSONString(text, into: &output)
        case .array(let items):
            output.append(0x5B)
            for (index, item) in items.enumerated() {
                if index > 0 { output.append(0x2C) }
                item.write(into: &output)
            }
            output.append(0x5D)
        case .object(let object):
            output.append(0x7B)
            for (index, member) in object.members.enumerated() {
                if index > 0 { output.append(0x2C) }
                writeJSONString(member.key, into: &output)
                output.append(0x3A)
                member.value.write(into: &output)
            }
            output.append(0x7D)
        }
    }
}

private let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

func writeJSONString(_ text: String, into output: inout [UInt8]) {
    output.append(0x22)
    for byte in text.utf8 {
        switch byte {
        case 0x22: output.append(contentsOf: [0x5C, 0x22])
        case 0x5C: output.append(contentsOf: [0x5C, 0x5C])
        case 0x0A: output.append(contentsOf: [0x5C, 0x6E])
        case 0x0D: output.append(contentsOf: [0x5C, 0x72])
        case 0x09: output.append(contentsOf: [0x5C, 0x74])
        case 0x00..<0x20:
            output.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0xF)]])
        default: output.append(byte)
        }
    }
    output.append(0x22)
}
