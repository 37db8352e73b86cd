// A JSON value as the Jobs API carries it (aws-ota-wire.md §3–§4). Standard library only: the agent parses job
// documents with it in Embedded Swift. Numbers keep their literal text, so nothing is lost to floating point and
// the caller decides what range it accepts (the FreeRTOS agent parses `filesize` with strtoul, for example).

public indirect enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    /// The number exactly as written; valid RFC 8259 number syntax.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    public static func integer(_ value: Int) -> JSONValue { .number(String(value)) }
    public static func unsigned(_ value: UInt64) -> JSONValue { .number(String(value)) }

    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    public var objectValue: JSONObject? {
        if case .object(let object) = self { return object }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let flag) = self { return flag }
        return nil
    }

    /// A non-negative integer written as a plain JSON number ("42") or as a quoted numeric string ("42", "0x2a",
    /// "052"), the way the FreeRTOS agent reads numbers with `strtoul(value, &end, 0)`: the whole text must be
    /// consumed; no sign, fraction or exponent.
    public func unsignedValue(maximum: UInt64 = UInt64.max) -> UInt64? {
        let text: String
        switch self {
        case .number(let literal): text = literal
        case .string(let quoted): text = quoted
        default: return nil
        }
        guard let value = Self.parseUnsigned(text), value <= maximum else { return nil }
        return value
    }

    /// strtoul with base 0 (see `parseUnsignedInteger`).
    static func parseUnsigned(_ text: String) -> UInt64? { parseUnsignedInteger(Array(text.utf8)) }
}

/// strtoul with base 0 over the bytes of a number: `0x` prefix is hexadecimal, a leading `0` octal, anything else
/// decimal; the whole text must be digits of that base, no sign, fraction or exponent. Bytes, not Characters:
/// String's Unicode machinery would cost a device tens of KiB of code.
public func parseUnsignedInteger(_ text: [UInt8]) -> UInt64? {
    var start = 0
    var radix: UInt64 = 10
    if text.count > 1 && text[0] == 0x30 {
        let hex = text[1] == 0x78 || text[1] == 0x58
        radix = hex ? 16 : 8
        start = hex ? 2 : 1
    }
    guard start < text.count else { return nil }
    var value: UInt64 = 0
    for index in start..<text.count {
        guard let digit = hexDigitValue(text[index]), UInt64(digit) < radix else { return nil }
        let (shifted, overflow1) = value.multipliedReportingOverflow(by: radix)
        let (sum, overflow2) = shifted.addingReportingOverflow(UInt64(digit))
        guard !overflow1, !overflow2 else { return nil }
        value = sum
    }
    return value
}

/// The value of an ASCII hexadecimal digit, nil for any other byte.
public func hexDigitValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case 0x30...0x39: return byte - 0x30
    case 0x41...0x46: return byte - 0x41 + 10
    case 0x61...0x66: return byte - 0x61 + 10
    default: return nil
    }
}

/// One `"key": value` member of an object.
public struct JSONMember: Equatable, Sendable {
    public var key: String
    public var value: JSONValue

    public init(_ key: String, _ value: JSONValue) {
        self.key = key
        self.value = value
    }
}

/// A JSON object that keeps its members in order: compact output is deterministic and matches the spec's
/// byte-exact samples. Keys are unique (the parser refuses duplicates).
public struct JSONObject: Equatable, Sendable {
    public var members: [JSONMember]

    public init(_ members: [JSONMember] = []) {
        self.members = members
    }

    public subscript(key: String) -> JSONValue? {
        for member in members where sameBytes(member.key, key) { return member.value }
        return nil
    }

    /// Adds or replaces `key`, keeping the position of an existing member.
    public mutating func set(_ key: String, _ value: JSONValue) {
        for index in members.indices where sameBytes(members[index].key, key) {
            members[index].value = value
            return
        }
        members.append(JSONMember(key, value))
    }

    public var keys: [String] { members.map { $0.key } }
}

/// Byte-wise string equality. JSON keys, CBOR keys and topics are compared as bytes (as the wire does); `==`
/// would compare Unicode canonical equivalence and pull the normalization tables into an embedded image.
@inline(__always)
public func sameBytes(_ lhs: String, _ rhs: String) -> Bool {
    lhs.utf8.elementsEqual(rhs.utf8)
}
