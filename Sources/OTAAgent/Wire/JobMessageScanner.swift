// Reads a Jobs message (notify-next, `$next/get/accepted`, `start-next/accepted`; aws-ota-wire.md §3–§4) in one
// pass over its bytes, as strictly as OTAWire's JSONParser (RFC 8259 syntax, valid UTF-8, nesting at most 32
// deep, nothing after the value) but without building a tree: only the values at the paths the agent reads are
// kept (`JobField`); everything else is checked and dropped. A tree of Strings, arrays and objects costs a device
// tens of KiB of code and a heap allocation per value; this costs a few KiB and one small buffer per string.
//
// One difference from the full parser, on purpose: a key repeated in an object is refused only where the agent
// reads it (a repeated `jobId` or `filesize` makes the message unreadable, so two readers can never pick different
// values); repeats elsewhere are not the agent's business and are not looked for.
import OTAWire

/// The values the agent reads, by where they sit in the message.
enum JobField: Int {
    case other
    case root
    case execution
    case jobID
    case jobDocument
    case statusDetails
    case selfTest
    case updatedBy
    case afrOTA
    case protocols
    /// An element of `protocols`.
    case protocolName
    case files
    case firstFile
    case fileSize
    case fileID
    case fileType
    // The optional string fields of the document, together: `JobMessage` checks their type as a range.
    case streamName
    case filePath
    case certFile
    case signature
    case updateDataURL
    case authScheme

    static let count = 22

    /// The field an object member is, given the field of its object.
    func member(_ key: [UInt8]) -> JobField {
        switch self {
        case .root: if key.equals("execution") { return .execution }
        case .execution:
            if key.equals("jobId") { return .jobID }
            if key.equals("jobDocument") { return .jobDocument }
            if key.equals("statusDetails") { return .statusDetails }
        case .statusDetails:
            if key.equals("self_test") { return .selfTest }
            if key.equals("updatedBy") { return .updatedBy }
        case .jobDocument: if key.equals("afr_ota") { return .afrOTA }
        case .afrOTA:
            if key.equals("protocols") { return .protocols }
            if key.equals("streamname") { return .streamName }
            if key.equals("files") { return .files }
        case .firstFile:
            if key.equals("filepath") { return .filePath }
            if key.equals("filesize") { return .fileSize }
            if key.equals("fileid") { return .fileID }
            if key.equals("certfile") { return .certFile }
            if key.equals("sig-sha256-ecdsa") { return .signature }
            if key.equals("fileType") { return .fileType }
            if key.equals("update_data_url") { return .updateDataURL }
            if key.equals("auth_scheme") { return .authScheme }
        default: break
        }
        return .other
    }

    /// The field an array element is, given the field of its array (only the first file is used, OTA_MAX_FILES 1).
    func element(_ index: Int) -> JobField {
        switch self {
        case .protocols: return .protocolName
        case .files: return index == 0 ? .firstFile : .other
        default: return .other
        }
    }
}

/// What a field held: its JSON type, and for a string its bytes (escapes resolved) or for a number its literal.
struct JobFieldValue {
    enum Kind: Equatable {
        case absent
        case string
        case number
        case object
        case array
        case literal
    }

    var kind = Kind.absent
    var bytes: [UInt8] = []

    /// strtoul of a number or a numeric string, as the FreeRTOS agent reads numbers; nil for anything else.
    func unsigned(maximum: UInt64) -> UInt64? {
        guard kind == .number || kind == .string, let value = parseUnsignedInteger(bytes), value <= maximum else {
            return nil
        }
        return value
    }
}

struct JobMessageScanner {
    static let maximumDepth = 32

    private let bytes: [UInt8]
    private var position = 0
    private var depth = 0
    private(set) var fields = [JobFieldValue](repeating: JobFieldValue(), count: JobField.count)
    /// The `protocols` names the agent knows, and whether every element was a string.
    private(set) var listedProtocols = OTADataProtocols()
    private(set) var protocolsAreText = true

    private init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// nil when the bytes are not one valid JSON value or a field the agent reads occurs twice.
    static func scan(_ bytes: [UInt8]) -> JobMessageScanner? {
        var scanner = JobMessageScanner(bytes)
        scanner.skipWhitespace()
        guard scanner.value(.root) else { return nil }
        scanner.skipWhitespace()
        return scanner.position == bytes.count ? scanner : nil
    }

    subscript(field: JobField) -> JobFieldValue { fields[field.rawValue] }

    private var current: UInt8 { position < bytes.count ? bytes[position] : 0 }

    private mutating func skipWhitespace() {
        while position < bytes.count,
            bytes[position] == 0x20 || bytes[position] == 0x09 || bytes[position] == 0x0A
                || bytes[position] == 0x0D
        {
            position += 1
        }
    }

    private mutating func value(_ field: JobField) -> Bool {
        var found = JobFieldValue()
        switch current {
        case 0x7B:
            guard container(field, closing: 0x7D) else { return false }
            found.kind = .object
        case 0x5B:
            guard container(field, closing: 0x5D) else { return false }
            found.kind = .array
        case 0x22:
            guard let text = string() else { return false }
            found = JobFieldValue(kind: .string, bytes: text)
        case 0x74:
            guard literal("true") else { return false }
            found.kind = .literal
        case 0x66:
            guard literal("false") else { return false }
            found.kind = .literal
        case 0x6E:
            guard literal("null") else { return false }
            found.kind = .literal
        case 0x2D, 0x30...0x39:
            guard let literal = number() else { return false }
            found = JobFieldValue(kind: .number, bytes: literal)
        default: return false
        }
        return record(field, found)
    }

    private mutating func record(_ field: JobField, _ found: JobFieldValue) -> Bool {
        switch field {
        case .other: return true
        case .protocolName:
            if found.kind != .string {
                protocolsAreText = false
            } else if found.bytes.equals("MQTT") {
                listedProtocols.insert(.mqtt)
            } else if found.bytes.equals("HTTP") {
                listedProtocols.insert(.http)
            }
            return true
        default:
            guard fields[field.rawValue].kind == .absent else { return false }
            fields[field.rawValue] = found
            return true
        }
    }

    /// The members of an object (`closing` is `}`) or the elements of an array (`]`), up to the closing byte.
    /// One function for both: the agent's code size counts (scripts/check-embedded).
    private mutating func container(_ field: JobField, closing: UInt8) -> Bool {
        depth += 1
        position += 1
        skipWhitespace()
        guard depth <= Self.maximumDepth else { return false }
        var index = 0
        if current != closing {
            while true {
                skipWhitespace()
                guard closing == 0x7D ? member(of: field) : value(field.element(index)) else { return false }
                index += 1
                skipWhitespace()
                guard current == 0x2C else { break }
                position += 1
            }
            guard current == closing else { return false }
        }
        position += 1
        depth -= 1
        return true
    }

    /// `"key": value` of an object whose field is `field`.
    private mutating func member(of field: JobField) -> Bool {
        guard current == 0x22, let key = string() else { return false }
        skipWhitespace()
        guard current == 0x3A else { return false }
        position += 1
        skipWhitespace()
        return value(field.member(key))
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard position + count <= bytes.count, Array(bytes[position..<position + count]).equals(word) else {
            return false
        }
        position += count
        return true
    }

    /// The literal text of an RFC 8259 number.
    private mutating func number() -> [UInt8]? {
        let start = position
        if current == 0x2D { position += 1 }
        guard current >= 0x30 && current <= 0x39 else { return nil }
        if current == 0x30 { position += 1 } else { _ = skipDigits() }
        if current == 0x2E {
            position += 1
            guard skipDigits() else { return nil }
        }
        if current == 0x65 || current == 0x45 {
            position += 1
            if current == 0x2B || current == 0x2D { position += 1 }
            guard skipDigits() else { return nil }
        }
        return Array(bytes[start..<position])
    }

    /// Skips digits; false when there were none.
    private mutating func skipDigits() -> Bool {
        let start = position
        while current >= 0x30 && current <= 0x39 { position += 1 }
        return position > start
    }

    /// A string's bytes with escapes resolved; nil when it is unterminated, has a control character or a bad
    /// escape, or is not valid UTF-8.
    private mutating func string() -> [UInt8]? {
        position += 1
        var text: [UInt8] = []
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            switch byte {
            case 0x22: return isValidUTF8(text[...]) ? text : nil
            case 0x5C: guard readJSONEscape(bytes, at: &position, into: &text) == nil else { return nil }
            case 0x00..<0x20: return nil
            default: text.append(byte)
            }
        }
        return nil
    }
}
