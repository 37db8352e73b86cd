// Errors of the service's own operations (API and CLI). Each maps to an HTTP status and a problem type.

public enum OTAServiceError: Error, Equatable, CustomStringConvertible {
    case invalidRequest(String)
    case notFound(String)
    case conflict(String)
    case unauthorized(String)
    /// Authenticated (or a signed URL) but not allowed: an expired or altered data URL.
    case forbidden(String)
    case signatureInvalid(String)
    case internalError(String)
    /// Something the service depends on (the file store's bucket, its endpoint) cannot be reached now.
    case unavailable(String)

    public var description: String {
        switch self {
        case .invalidRequest(let message): return "invalid request: \(message)"
        case .notFound(let what): return "not found: \(what)"
        case .conflict(let message): return "conflict: \(message)"
        case .unauthorized(let message): return "unauthorized: \(message)"
        case .forbidden(let message): return "forbidden: \(message)"
        case .signatureInvalid(let message): return "signature does not verify: \(message)"
        case .internalError(let message): return "internal error: \(message)"
        case .unavailable(let message): return "unavailable: \(message)"
        }
    }

    public var httpStatus: Int {
        switch self {
        case .invalidRequest, .signatureInvalid: return 400
        case .unauthorized: return 401
        case .forbidden: return 403
        case .notFound: return 404
        case .conflict: return 409
        case .internalError: return 500
        case .unavailable: return 503
        }
    }

    /// The short problem type, used in problem-details `type` and the CLI's `--json` errors.
    public var kind: String {
        switch self {
        case .invalidRequest: return "invalid-request"
        case .notFound: return "not-found"
        case .conflict: return "conflict"
        case .unauthorized: return "unauthorized"
        case .forbidden: return "forbidden"
        case .signatureInvalid: return "signature-invalid"
        case .internalError: return "internal-error"
        case .unavailable: return "unavailable"
        }
    }
}

/// Name rules shared by the registry and the updates.
public enum Names {
    /// AWS IoT thing and group names: 1–128 of `a-zA-Z0-9:_-` (they become topic levels, client ids and CNs).
    public static func isThingName(_ name: String) -> Bool {
        (1...128).contains(name.utf8.count) && name.utf8.allSatisfy { isWordByte($0) || $0 == 0x3A }
    }

    /// Update ids: 1–56 of `a-zA-Z0-9_-`, so that the job id `AFR_OTA-<id>` stays within AWS's 64 characters.
    public static func isUpdateID(_ id: String) -> Bool {
        (1...56).contains(id.utf8.count) && id.utf8.allSatisfy(isWordByte)
    }

    public static func isAttributeName(_ name: String) -> Bool {
        (1...128).contains(name.utf8.count) && name.utf8.allSatisfy { isWordByte($0) || $0 == 0x2E || $0 == 0x3A }
    }

    /// Paths and labels the job document carries to the device (`filepath`, `certfile`): 1–1024 bytes, no control
    /// characters (a NUL would end the string in the device's C code, a newline would break its logs).
    public static func isDevicePath(_ path: String) -> Bool {
        (1...1024).contains(path.utf8.count) && path.utf8.allSatisfy { $0 >= 0x20 && $0 != 0x7F }
    }

    /// Descriptions and queries people write: at most 2,028 bytes (AWS's limit for group and update descriptions),
    /// no control characters but tab and newline.
    /// Whether `scalar` shows as itself: not a control character (C0, C1) nor a format one (bidirectional
    /// overrides, zero-width joiners), which can move a terminal's cursor or reorder what a reader sees.
    public static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.generalCategory != .control && scalar.properties.generalCategory != .format
    }

    /// `text` with every scalar that is not printable replaced by `replacement` (nothing when nil).
    public static func printable(_ text: String, replacement: Unicode.Scalar? = nil) -> String {
        var kept = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if isPrintable(scalar) { kept.append(scalar) } else if let replacement { kept.append(replacement) }
        }
        return String(kept)
    }

    public static func isFreeText(_ text: String, maximumBytes: Int = 2028) -> Bool {
        text.utf8.count <= maximumBytes
            && text.utf8.allSatisfy { ($0 >= 0x20 && $0 != 0x7F) || $0 == 0x09 || $0 == 0x0A }
    }

    private static func isWordByte(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == 0x5F
            || byte == 0x2D
    }
}
