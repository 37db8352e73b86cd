// The FreeRTOS OTA agent's firmware version, AppVersion32_t (docs/specs/aws-ota-wire.md §6.2):
// major (8 bits), minor (8 bits), build (16 bits), compared as `major<<24 | minor<<16 | build`.
// The self-test rule "no downgrade, no same version" compares these values. Standard library only.

public struct AppVersion32: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let major: UInt8
    public let minor: UInt8
    public let build: UInt16

    public init(major: UInt8, minor: UInt8, build: UInt16) {
        self.major = major
        self.minor = minor
        self.build = build
    }

    public init(rawValue: UInt32) {
        major = UInt8(truncatingIfNeeded: rawValue >> 24)
        minor = UInt8(truncatingIfNeeded: rawValue >> 16)
        build = UInt16(truncatingIfNeeded: rawValue)
    }

    /// Parses "X.Y.Z" with X, Y in 0...255 and Z in 0...65535; nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            let major = UInt8(parts[0]), let minor = UInt8(parts[1]), let build = UInt16(parts[2])
        else { return nil }
        self.init(major: major, minor: minor, build: build)
    }

    public var rawValue: UInt32 { UInt32(major) << 24 | UInt32(minor) << 16 | UInt32(build) }

    /// "0x01020003": how the agent writes `updatedBy` in statusDetails.
    public var hexString: String { hex8(rawValue) }

    public var description: String { "\(major).\(minor).\(build)" }

    public static func < (lhs: AppVersion32, rhs: AppVersion32) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// `0x` and eight lowercase hex digits, as the FreeRTOS agent prints versions and error codes (`0x%08x`).
public func hex8(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - digits.utf8.count) + digits
}
