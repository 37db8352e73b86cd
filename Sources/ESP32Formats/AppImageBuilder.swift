// Writes app images the way esptool's ESP32 image writer lays them out (esp32-formats.md §1.2–1.5), so that
// an image built from the same segments is byte-identical to `esptool elf2image` output.
import Crypto

public struct AppImageBuilder: Sendable {
    public struct Segment: Equatable, Sendable {
        public var loadAddress: UInt32
        public var data: [UInt8]
        public init(loadAddress: UInt32, data: [UInt8]) {
            self.loadAddress = loadAddress
            self.data = data
        }
    }

    /// Header template; `segmentCount` is filled in by `build()`.
    public var header: ImageHeader
    /// In file order. Flash-mapped segments get padding segments in front when needed to keep the
    /// MMU alignment rule; esptool sometimes splits a RAM segment into that gap instead — both load the same.
    public var segments: [Segment]
    /// `elf2image --secure-pad`: pad so that image + hash + the 68-byte v1 signature block end 12 bytes
    /// before a 64 KiB boundary (what secure boot v1 builds do).
    public var secureBootV1Padding: Bool

    public init(header: ImageHeader, segments: [Segment], secureBootV1Padding: Bool = false) {
        self.header = header
        self.segments = segments
        self.secureBootV1Padding = secureBootV1Padding
    }

    private static let segmentHeaderSize = 8

    public func build() throws(ImageFormatError) -> [UInt8] {
        if secureBootV1Padding && !header.hashAppended {
            throw .invalidArgument("secure boot v1 padding needs the SHA-256 appended to the image")
        }
        var body: [UInt8] = []
        var count = 0
        var checksum = AppImage.checksumSeed
        // Offsets below are file offsets: the 24-byte header precedes `body`.
        func position() -> Int { ImageHeader.size + body.count }
        func write(_ loadAddress: UInt32, _ data: [UInt8]) {
            body.appendLE32(loadAddress)
            body.appendLE32(UInt32(data.count))
            body.append(contentsOf: data)
            checksum = data.reduce(checksum, ^)
            count += 1
        }
        for (index, segment) in segments.enumerated() {
            guard segment.data.count % 4 == 0 else {
                throw .segmentLengthNotWordAligned(
                    segment: index, length: UInt32(truncatingIfNeeded: segment.data.count))
            }
            var data = segment.data
            let region = SegmentRegion(esp32LoadAddress: segment.loadAddress)
            if header.chip == .esp32, region.isFlashMapped {
                if let padding = Self.alignmentPadding(for: segment.loadAddress, at: position()) {
                    write(0, Array(repeating: 0, count: padding))
                }
                // Old ESP32 bootloaders did not map the last MMU page when a mapped segment ended less than
                // 0x24 bytes past a page boundary; esptool zero-extends such segments, and so do we.
                let end = position() + Self.segmentHeaderSize + data.count
                if end % mmuPageSize < 0x24 {
                    data += Array(repeating: 0, count: 0x24 - end % mmuPageSize)
                }
            }
            write(segment.loadAddress, data)
        }
        if secureBootV1Padding {
            // Checksum block (16) + hash (32) + signature block (68) + the 12 bytes left before the boundary.
            let afterChecksum = 32 + 68 + 12
            let used = (position() + Self.segmentHeaderSize) % mmuPageSize
            let padding = ((mmuPageSize - used - 16 - afterChecksum) % mmuPageSize + mmuPageSize) % mmuPageSize
            write(0, Array(repeating: 0, count: padding))
        }
        guard count <= AppImage.maximumSegmentCount else { throw .tooManySegments(count: count) }
        var headerOut = header
        headerOut.segmentCount = UInt8(count)
        var image = headerOut.encoded() + body
        let checksumOffset = AppImage.checksumOffset(afterSegmentsEndingAt: image.count)
        image += Array(repeating: 0, count: checksumOffset - image.count)
        image.append(checksum)
        if header.hashAppended {
            image += SHA256.hash(data: image)
        }
        return image
    }

    /// Bytes of padding-segment data needed before a flash-mapped segment written at file offset `position`,
    /// so that its data lands congruent to `loadAddress` modulo 64 KiB; nil when it already does.
    static func alignmentPadding(for loadAddress: UInt32, at position: Int) -> Int? {
        let header = segmentHeaderSize
        let wanted = Int(loadAddress) % mmuPageSize
        if (position + header) % mmuPageSize == wanted { return nil }
        // The padding segment brings its own 8-byte header, then the real segment's header follows.
        var padding = (wanted - (position + 2 * header)) % mmuPageSize
        if padding < 0 { padding += mmuPageSize }
        return padding
    }
}

extension AppImageBuilder {
    /// DROM address of the app descriptor in an ESP32 app: segment 0's data, mapped at 0x3F400020.
    public static let appDescriptorAddress: UInt32 = 0x3F40_0020
    /// Start of the ESP32's IRAM, where the minimal entry segment goes.
    public static let iramEntryAddress: UInt32 = 0x4008_0000

    /// An ESP32 app image around an arbitrary payload, used for simulated firmware: segment 0 is the app
    /// descriptor followed by the payload (zero-padded to a word) in DROM, segment 1 a 4-byte IRAM entry stub.
    public static func application(
        descriptor: AppDescriptor, payload: [UInt8], chip: ChipID = .esp32, secureBootV1Padding: Bool = false
    ) throws(ImageFormatError) -> [UInt8] {
        var drom = try descriptor.encoded() + payload
        drom += Array(repeating: 0, count: (4 - drom.count % 4) % 4)
        let header = ImageHeader(segmentCount: 0, entryAddress: iramEntryAddress, chip: chip)
        let builder = AppImageBuilder(
            header: header,
            segments: [
                Segment(loadAddress: appDescriptorAddress, data: drom),
                Segment(loadAddress: iramEntryAddress, data: [0, 0, 0, 0]),
            ],
            secureBootV1Padding: secureBootV1Padding)
        return try builder.build()
    }
}
