// The escapes of a JSON string (RFC 8259 §7), read in one place for OTAWire's parser and the agent's scanner:
// `\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t` and `\uXXXX`, with UTF-16 surrogate pairs joined and lone
// surrogates refused.

public enum JSONEscapeError: Error, Sendable {
    case unterminated
    case unknown
    case truncatedUnicode
    case badHexDigit
    case unpairedSurrogate

    public var reason: String {
        switch self {
        case .unterminated: "unterminated escape"
        case .unknown: "unknown escape"
        case .truncatedUnicode: "truncated \\u escape"
        case .badHexDigit: "bad hex digit in \\u escape"
        case .unpairedSurrogate: "unpaired surrogate"
        }
    }
}

/// Reads the escape whose backslash is just before `position`, appends the UTF-8 bytes it stands for to `output`
/// and moves `position` past it; nil on success.
public func readJSONEscape(_ bytes: [UInt8], at position: inout Int, into output: inout [UInt8]) -> JSONEscapeError? {
    guard position < bytes.count else { return .unterminated }
    let escaped = bytes[position]
    position += 1
    switch escaped {
    case 0x22, 0x5C, 0x2F: output.append(escaped)
    case 0x62: output.append(0x08)
    case 0x66: output.append(0x0C)
    case 0x6E: output.append(0x0A)
    case 0x72: output.append(0x0D)
    case 0x74: output.append(0x09)
    case 0x75:
        var high: UInt32 = 0
        if let failure = readHex4(bytes, at: &position, into: &high) { return failure }
        var scalar = high
        if high >= 0xD800 && high < 0xDC00 {
            guard position + 1 < bytes.count, bytes[position] == 0x5C, bytes[position + 1] == 0x75 else {
                return .unpairedSurrogate
            }
            position += 2
            var low: UInt32 = 0
            if let failure = readHex4(bytes, at: &position, into: &low) { return failure }
            guard low >= 0xDC00 && low < 0xE000 else { return .unpairedSurrogate }
            scalar = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
        } else if high >= 0xDC00 && high < 0xE000 {
            return .unpairedSurrogate
        }
        appendUTF8(scalar, to: &output)
    default: return .unknown
    }
    return nil
}

private func readHex4(_ bytes: [UInt8], at position: inout Int, into value: inout UInt32) -> JSONEscapeError? {
    guard position + 4 <= bytes.count else { return .truncatedUnicode }
    for _ in 0..<4 {
        guard let digit = hexDigitValue(bytes[position]) else { return .badHexDigit }
        value = value << 4 | UInt32(digit)
        position += 1
    }
    return nil
}
