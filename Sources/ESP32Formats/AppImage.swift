// A parsed ESP app image: header, segments, checksum byte, optional appended SHA-256 and an optional
// secure-boot v1 signature block (esp32-formats.md §1.1–1.5, §5.1). Parsing checks the structure the
// bootloader checks before it reads data; `verify()` then checks checksum and hash.
import Crypto

/// One segment as it lies in the file.
public struct ImageSegment: Equatable, Sendable {
    public let loadAddress: UInt32
    /// Offset of the segment's data (just past its 8-byte header) in the image.
    public let dataOffset: Int
    public let length: Int

    public var dataRange: Range<Int> { dataOffset..<dataOffset + length }
    public var headerOffset: Int { dataOffset - 8 }
    public var region: SegmentRegion { SegmentRegion(esp32LoadAddress: loadAddress) }
}

public struct AppImage: Sendable {
    public static let maximumSegmentCount = 16
    /// `data_len` must stay below this (ESP32: 0x1000000).
    public static let maximumSegmentLength = 0x100_0000
    public static let checksumSeed: UInt8 = 0xEF

    /// The whole input, including anything after the image.
    public let bytes: [UInt8]
    public let header: ImageHeader
    public let segments: [ImageSegment]
    /// Offset of the checksum byte: the image up to and including it is a multiple of 16 bytes.
    public let checksumOffset: Int
    /// Length the loader computes (`image_len`): through the checksum, plus 32 if the hash is appended.
    /// This is exactly what a secure-boot v1 signature covers.
    public let imageLength: Int
    /// The 68-byte block right after `imageLength`, when one is there (version word 0).
    public let secureBootBlock: SecureBootV1SignatureBlock?

    public var storedChecksum: UInt8 { bytes[checksumOffset] }
    public var storedHash: ArraySlice<UInt8>? {
        header.hashAppended ? bytes[checksumOffset + 1..<checksumOffset + 33] : nil
    }
    /// Length including a secure-boot block when present.
    public var totalLength: Int { imageLength + (secureBootBlock == nil ? 0 : SecureBootV1SignatureBlock.size) }

    public init(bytes: [UInt8]) throws(ImageFormatError) {
        let header = try ImageHeader(bytes: bytes)
        guard Int(header.segmentCount) <= Self.maximumSegmentCount else {
            throw .tooManySegments(count: Int(header.segmentCount))
        }
        var reader = ByteReader(bytes, offset: ImageHeader.size)
        var segments: [ImageSegment] = []
        for index in 0..<Int(header.segmentCount) {
            guard let loadAddress = reader.readU32(), let length = reader.readU32() else {
                throw .truncated(needed: 8, available: reader.remaining, what: "segment \(index)'s header")
            }
            guard length % 4 == 0 else { throw .segmentLengthNotWordAligned(segment: index, length: length) }
            guard Int(length) < Self.maximumSegmentLength else {
                throw .segmentTooLarge(segment: index, length: length)
            }
            let segment = ImageSegment(loadAddress: loadAddress, dataOffset: reader.offset, length: Int(length))
            guard reader.skip(segment.length) else {
                throw .segmentPastEnd(segment: index, end: segment.dataRange.upperBound, fileSize: bytes.count)
            }
            if header.chip == .esp32, segment.region.isFlashMapped,
                segment.dataOffset % mmuPageSize != Int(loadAddress) % mmuPageSize
            {
                throw .segmentMappingMisaligned(
                    segment: index, loadAddress: loadAddress, fileOffset: segment.dataOffset)
            }
            segments.append(segment)
        }
        let checksumOffset = Self.checksumOffset(afterSegmentsEndingAt: reader.offset)
        let imageLength = checksumOffset + 1 + (header.hashAppended ? 32 : 0)
        guard imageLength <= bytes.count else {
            throw .truncated(
                needed: imageLength - reader.offset, available: reader.remaining,
                what: header.hashAppended ? "the checksum and appended SHA-256" : "the checksum")
        }
        self.bytes = bytes
        self.header = header
        self.segments = segments
        self.checksumOffset = checksumOffset
        self.imageLength = imageLength
        self.secureBootBlock = SecureBootV1SignatureBlock(locatedIn: bytes, at: imageLength)
    }

    /// Zero padding then the checksum byte, so that the length through the checksum is a multiple of 16.
    static func checksumOffset(afterSegmentsEndingAt end: Int) -> Int {
        (end + 1 + 15) / 16 * 16 - 1
    }

    /// The bytes a secure-boot v1 signature covers: offset 0 up to `imageLength`.
    public var signedBytes: ArraySlice<UInt8> { bytes[0..<imageLength] }

    /// The app descriptor at offset 0x20 (start of segment 0's data).
    public func appDescriptor() throws(ImageFormatError) -> AppDescriptor {
        guard let first = segments.first else { throw .noAppDescriptor(reason: "the image has no segments") }
        guard first.length >= AppDescriptor.size else {
            throw .noAppDescriptor(reason: "segment 0 holds \(first.length) bytes, fewer than the descriptor's 256")
        }
        return try AppDescriptor(bytes: Array(bytes[first.dataRange.prefix(AppDescriptor.size)]))
    }
}
