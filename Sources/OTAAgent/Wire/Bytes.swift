// The agent works on UTF-8 bytes: topics, job ids, stream names and reports are `[UInt8]` built from `StaticString`
// pieces, numbers are written digit by digit, and comparisons are byte by byte. String's formatting,
// concatenation and Unicode-aware comparison would link tens of KiB of standard library code into the firmware
// (scripts/check-embedded measures what the agent costs a device). Hosted code converts at its edges (ByteString).
import OTAWire

extension Array where Element == UInt8 {
    @inline(never)
    init(ascii literal: StaticString) {
        self.init(UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    @inline(never)
    mutating func append(ascii literal: StaticString) {
        append(contentsOf: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    func equals(_ literal: StaticString) -> Bool {
        guard count == literal.utf8CodeUnitCount else { return false }
        let start = literal.utf8Start
        for index in 0..<count where self[index] != start[index] { return false }
        return true
    }

    /// The value in decimal, as `%u` prints it.
    mutating func appendDecimal(_ value: UInt32) {
        var divisor: UInt32 = 1
        while value / divisor >= 10 { divisor *= 10 }
        while divisor > 0 {
            append(0x30 + UInt8(value / divisor % 10))
            divisor /= 10
        }
    }

    /// `0x` and eight lowercase hex digits, as the FreeRTOS agent prints versions and error codes (`0x%08x`).
    @inline(never)
    mutating func appendHex8(_ value: UInt32) {
        append(ascii: "0x")
        var shift: UInt32 = 32
        while shift > 0 {
            shift -= 4
            let digit = UInt8(truncatingIfNeeded: value >> shift) & 0xF
            append(digit < 10 ? 0x30 + digit : 0x57 + digit)
        }
    }

    /// "X.Y.Z", as the FreeRTOS agent prints an AppVersion32 (`%u.%u.%u`).
    mutating func appendVersion(_ version: AppVersion32) {
        appendDecimal(UInt32(version.major))
        append(0x2E)
        appendDecimal(UInt32(version.minor))
        append(0x2E)
        appendDecimal(UInt32(version.build))
    }

    /// A JSON string: quotes around the bytes, with the quote, the backslash and control characters escaped.
    mutating func appendJSONString(_ text: [UInt8]) {
        append(0x22)
        for byte in text {
            switch byte {
            case 0x22, 0x5C:
                append(0x5C)
                append(byte)
            case 0x00..<0x20:
                append(ascii: "\\u00")
                append(byte < 0x10 ? 0x30 : 0x31)
                let low = byte & 0xF
                append(low < 10 ? 0x30 + low : 0x57 + low)
            default: append(byte)
            }
        }
        append(0x22)
    }
}
