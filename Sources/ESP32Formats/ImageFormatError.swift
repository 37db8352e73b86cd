// Every way an app image can be malformed, each with what was wrong and where.

public enum ImageFormatError: Error, Equatable, Sendable, CustomStringConvertible {
    case truncated(needed: Int, available: Int, what: String)
    case wrongMagic(found: UInt8)
    case tooManySegments(count: Int)
    case segmentLengthNotWordAligned(segment: Int, length: UInt32)
    case segmentTooLarge(segment: Int, length: UInt32)
    case segmentPastEnd(segment: Int, end: Int, fileSize: Int)
    case segmentMappingMisaligned(segment: Int, loadAddress: UInt32, fileOffset: Int)
    case checksumMismatch(stored: UInt8, computed: UInt8)
    case hashMismatch(stored: String, computed: String)
    case noAppDescriptor(reason: String)
    case fieldTooLong(field: String, maximum: Int)
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .truncated(let needed, let available, let what):
            return "image is truncated: \(what) needs \(needed) bytes but only \(available) remain"
        case .wrongMagic(let found):
            return "not an ESP app image: first byte is \(hex(found)), expected 0xe9"
        case .tooManySegments(let count):
            return "image declares \(count) segments; the bootloader accepts at most \(AppImage.maximumSegmentCount)"
        case .segmentLengthNotWordAligned(let segment, let length):
            return "segment \(segment) length \(hex(length)) is not a multiple of 4"
        case .segmentTooLarge(let segment, let length):
            return "segment \(segment) length \(hex(length)) is not below the 16 MiB limit"
        case .segmentPastEnd(let segment, let end, let fileSize):
            return "segment \(segment) ends at byte \(end), past the end of the \(fileSize)-byte file"
        case .segmentMappingMisaligned(let segment, let loadAddress, let fileOffset):
            return "segment \(segment) is flash-mapped at \(hex32(loadAddress)) but its data sits at file offset "
                + "\(hex(fileOffset)); both must agree modulo 64 KiB (the MMU page) or the bootloader refuses it"
        case .checksumMismatch(let stored, let computed):
            return "checksum byte is \(hex(stored)) but the segment data gives \(hex(computed)); the image is corrupt"
        case .hashMismatch(let stored, let computed):
            return "appended SHA-256 is \(stored) but the image hashes to \(computed); the image is corrupt"
        case .noAppDescriptor(let reason):
            return "no app descriptor (esp_app_desc_t) at offset 0x20: \(reason)"
        case .fieldTooLong(let field, let maximum):
            return "\(field) is longer than \(maximum) bytes, the size of its field in esp_app_desc_t"
        case .invalidArgument(let message):
            return message
        }
    }
}
