// A strict RFC 8259 parser over UTF-8 bytes (the agent runs `JSON_Validate` on every payload; the service must
// be at least as strict). Bounded by `DecodingLimits`: input size, nesting depth and members per object, so a
// hostile payload cannot exhaust the stack, memory or CPU. Duplicate keys are refused because two readers could
// pick different values; the check is O(n log n) per object (DuplicateKeys.swift).

public struct JSONError: Error, Equatable, CustomStringConvertible {
    public let offset: Int
    public let reason: String
    public let failure: DecodingFailure

    public init(offset: Int, reason: String, failure: DecodingFailure = .malformed) {
        self.offset = offset
        self.reason = reason
        self.failure = failure
    }

    public var description: String {
        switch failure {
        case .malformed: "invalid JSON at byte \(offset): \(reason)"
        case .limitExceeded: "JSON over the limits at byte \(offset): \(reason)"
        }
    }
}

public struct JSONParser {
    private let bytes: [UInt8]
    private let limits: DecodingLimits
    private var position = 0
    private var depth = 0

    private init(_ bytes: [UInt8], limits: DecodingLimits) {
        self.bytes = bytes
        self.limits = limits
    }

    public static func parse(_ bytes: [UInt8], limits: DecodingLimits = .json) throws(JSONError) -> JSONValue {
        guard bytes.count <= limits.maximumBytes else {
            throw JSONError(offset: 0, reason: limits.sizeExceeded(bytes.count), failure: .limitExceeded)
        }
        var parser = JSONParser(bytes, limits: limits)
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        guard parser.position == bytes.count else { throw parser.error("unexpected data after the value") }
        return value
    }

    public static func parse(_ text: String) throws(JSONError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    private func error(_ reason: String) -> JSONError { JSONError(offset: position, reason: reason) }

    private func limitError(_ reason: String) -> JSONError {
        JSONError(offset: position, reason: reason, failure: .limitExceeded)
    }

    private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func skipWhitespace() {
        while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { position += 1 }
    }

    private mutating func expect(_ literal: StaticString) throws(JSONError) {
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count else { throw error("truncated literal") }
        let start = literal.utf8Start
        for index in 0..<count where bytes[position + index] != start[index] {
            throw error("unknown literal")
        }
        position += count
    }

    private mutating func parseValue() throws(JSONError) -> JSONValue {
        guard let byte = current else { throw error("a value is missing") }
        switch byte {
        case 0x7B: return .object(try parseObject())
        case 0x5B: return .array(try parseArray())
        case 0x22: return .string(try validatedString(try parseString()))
        case 0x74:
            try expect("true")
            return .bool(true)
        case 0x66:
            try expect("false")
            return .bool(false)
        case 0x6E:
            try expect("null")
            return .null
        case 0x2D, 0x30...0x39: return .number(try parseNumber())
        default: throw error("unexpected character")
        }
    }

    private mutating func enter() throws(JSONError) {
        depth += 1
        guard depth <= limits.maximumDepth else { throw limitError("nesting deeper than \(limits.maximumDepth)") }
    }

    private mutating func parseObject() throws(JSONError) -> JSONObject {
        try enter()
        position += 1
        var object = JSONObject()
        // Each key's bytes, kept for the duplicate check.
        var keys: [[UInt8]] = []
        skipWhitespace()
        if current == 0x7D {
            position += 1
            depth -= 1
            return object
        }
        while true {
            skipWhitespace()
            guard current == 0x22 else { throw error("an object key must be a string") }
            guard object.members.count < limits.maximumMembers else {
                throw limitError("more than \(limits.maximumMembers) members in an object")
            }
            let key = try parseString()
            let name = try validatedString(key)
            keys.append(key)
            skipWhitespace()
            guard current == 0x3A else { throw error("':' expected after an object key") }
            position += 1
            skipWhitespace()
            object.members.append(JSONMember(name, try parseValue()))
            skipWhitespace()
            switch current {
            case 0x2C: position += 1
            case 0x7D:
                if let duplicate = duplicateKey(keys) {
                    let text = String(decoding: duplicate, as: UTF8.self)
                    throw error("duplicate key \"\(text)\" in the object ending here")
                }
                position += 1
                depth -= 1
                return object
            default: throw error("',' or '}' expected in an object")
            }
        }
    }

    private mutating func parseArray() throws(JSONError) -> [JSONValue] {
        try enter()
        position += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if current == 0x5D {
            position += 1
            depth -= 1
            return items
        }
        while true {
            skipWhitespace()
            items.append(try parseValue())
            skipWhitespace()
            switch current {
            case 0x2C: position += 1
            case 0x5D:
                position += 1
                depth -= 1
                return items
            default: throw error("',' or ']' expected in an array")
            }
        }
    }

    private mutating func parseNumber() throws(JSONError) -> String {
        let start = position
        if current == 0x2D { position += 1 }
        guard let first = current, first >= 0x30 && first <= 0x39 else { throw error("a digit is expected") }
        position += 1
        if first != 0x30 { skipDigits() }
        if current == 0x2E {
            position += 1
            guard skipDigits() > 0 else { throw error("a digit is expected after '.'") }
        }
        if current == 0x65 || current == 0x45 {
            position += 1
            if current == 0x2B || current == 0x2D { position += 1 }
            guard skipDigits() > 0 else { throw error("a digit is expected in the exponent") }
        }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    @discardableResult
    private mutating func skipDigits() -> Int {
        let start = position
        while let byte = current, byte >= 0x30 && byte <= 0x39 { position += 1 }
        return position - start
    }

    /// The string's UTF-8 bytes with escapes resolved, not yet checked to be valid UTF-8.
    private mutating func parseString() throws(JSONError) -> [UInt8] {
        position += 1
        var scalars: [UInt8] = []
        var runStart = position
        while true {
            guard let byte = current else { throw error("unterminated string") }
            switch byte {
            case 0x22:
                scalars.append(contentsOf: bytes[runStart..<position])
                position += 1
                return scalars
            case 0x5C:
                scalars.append(contentsOf: bytes[runStart..<position])
                position += 1
                try parseEscape(into: &scalars)
                runStart = position
            case 0x00..<0x20:
                throw error("control character in a string")
            default:
                position += 1
            }
        }
    }

    private func validatedString(_ utf8: [UInt8]) throws(JSONError) -> String {
        let text = String(decoding: utf8, as: UTF8.self)
        // Decoding replaces invalid sequences with U+FFFD; a round trip that changes the bytes means invalid UTF-8.
        guard text.utf8.elementsEqual(utf8) else { throw error("invalid UTF-8 in a string") }
        return text
    }

    private mutating func parseEscape(into output: inout [UInt8]) throws(JSONError) {
        if let failure = readJSONEscape(bytes, at: &position, into: &output) { throw error(failure.reason) }
    }
}

/// Appends the UTF-8 encoding of a Unicode scalar value (the caller has excluded surrogates).
public func appendUTF8(_ scalar: UInt32, to output: inout [UInt8]) {
    switch scalar {
    case 0..<0x80:
        output.append(UInt8(scalar))
    case 0x80..<0x800:
        output.append(UInt8(0xC0 | scalar >> 6))
        output.append(UInt8(0x80 | scalar & 0x3F))
    case 0x800..<0x10000:
        output.append(UInt8(0xE0 | scalar >> 12))
        output.append(UInt8(0x80 | scalar >> 6 & 0x3F))
        output.append(UInt8(0x80 | scalar & 0x3F))
    default:
        output.append(UInt8(0xF0 | scalar >> 18))
        output.append(UInt8(0x80 | scalar >> 12 & 0x3F))
        output.append(UInt8(0x80 | scalar >> 6 & 0x3F))
        output.append(UInt8(0x80 | scalar & 0x3F))
    }
}
