// esp_image_header_t: the 24-byte header at the start of every app image (esp32-formats.md §1.1).

public struct ImageHeader: Equatable, Sendable {
    public static let magic: UInt8 = 0xE9
    public static let size = 24

    public var segmentCount: UInt8
    /// 0 QIO, 1 QOUT, 2 DIO, 3 DOUT, 4 FAST_READ, 5 SLOW_READ.
    public var spiMode: UInt8
    /// Low nibble of byte 3: 0 = 40 MHz, 1 = 26 MHz, 2 = 20 MHz, 0xF = 80 MHz.
    public var spiSpeed: UInt8
    /// High nibble of byte 3: 0 1MB, 1 2MB, 2 4MB, 3 8MB, 4 16MB ... 7 128MB.
    public var spiSize: UInt8
    public var entryAddress: UInt32
    /// 0xEE = disabled, what ESP-IDF and esptool write.
    public var wpPin: UInt8
    public var spiPinDrive: [UInt8]
    public var chip: ChipID
    public var minChipRevision: UInt8
    /// major*100+minor.
    public var minChipRevisionFull: UInt16
    /// major*100+minor; 0 and 0xFFFF both mean "no upper limit".
    public var maxChipRevisionFull: UInt16
    public var reserved: [UInt8]
    /// The raw byte: ESP-IDF treats any non-zero value as "SHA-256 appended".
    public var hashAppendedByte: UInt8

    public var hashAppended: Bool { hashAppendedByte != 0 }

    public init(
        segmentCount: UInt8, spiMode: UInt8 = 2, spiSpeed: UInt8 = 0, spiSize: UInt8 = 2,
        entryAddress: UInt32, wpPin: UInt8 = 0xEE, spiPinDrive: [UInt8] = [0, 0, 0], chip: ChipID = .esp32,
        minChipRevision: UInt8 = 0, minChipRevisionFull: UInt16 = 0, maxChipRevisionFull: UInt16 = 399,
        hashAppended: Bool = true
    ) {
        self.segmentCount = segmentCount
        self.spiMode = spiMode
        self.spiSpeed = spiSpeed
        self.spiSize = spiSize
        self.entryAddress = entryAddress
        self.wpPin = wpPin
        self.spiPinDrive = spiPinDrive
        self.chip = chip
        self.minChipRevision = minChipRevision
        self.minChipRevisionFull = minChipRevisionFull
        self.maxChipRevisionFull = maxChipRevisionFull
        self.reserved = [0, 0, 0, 0]
        self.hashAppendedByte = hashAppended ? 1 : 0
    }

    /// Parses the header; checks only the magic byte and the length. Segment rules belong to `AppImage`.
    public init(bytes: [UInt8]) throws(ImageFormatError) {
        guard !bytes.isEmpty else { throw .truncated(needed: Self.size, available: 0, what: "the image header") }
        guard bytes[0] == Self.magic else { throw .wrongMagic(found: bytes[0]) }
        var reader = ByteReader(bytes, offset: 1)
        guard bytes.count >= Self.size, let count = reader.readU8(), let mode = reader.readU8(),
            let speedSize = reader.readU8(), let entry = reader.readU32(), let wp = reader.readU8(),
            let drive = reader.readBytes(3), let chipID = reader.readU16(), let minRev = reader.readU8(),
            let minFull = reader.readU16(), let maxFull = reader.readU16(), let reserved = reader.readBytes(4),
            let hashByte = reader.readU8()
        else { throw .truncated(needed: Self.size, available: bytes.count, what: "the image header") }
        segmentCount = count
        spiMode = mode
        spiSpeed = speedSize & 0x0F
        spiSize = speedSize >> 4
        entryAddress = entry
        wpPin = wp
        spiPinDrive = drive
        chip = ChipID(rawValue: chipID)
        minChipRevision = minRev
        minChipRevisionFull = minFull
        maxChipRevisionFull = maxFull
        self.reserved = reserved
        hashAppendedByte = hashByte
    }

    public func encoded() -> [UInt8] {
        var out: [UInt8] = [Self.magic, segmentCount, spiMode, (spiSize << 4) | (spiSpeed & 0x0F)]
        out.reserveCapacity(Self.size)
        out.appendLE32(entryAddress)
        out.append(wpPin)
        out.append(contentsOf: (spiPinDrive + [0, 0, 0]).prefix(3))
        out.appendLE16(chip.rawValue)
        out.append(minChipRevision)
        out.appendLE16(minChipRevisionFull)
        out.appendLE16(maxChipRevisionFull)
        out.append(contentsOf: (reserved + [0, 0, 0, 0]).prefix(4))
        out.append(hashAppendedByte)
        return out
    }

    private static let spiModeNames = ["QIO", "QOUT", "DIO", "DOUT", "FAST_READ", "SLOW_READ"]

    public var spiModeName: String {
        Int(spiMode) < Self.spiModeNames.count ? Self.spiModeNames[Int(spiMode)] : "unknown (\(spiMode))"
    }

    public var spiSpeedName: String {
        switch spiSpeed {
        case 0x0: return "40m"
        case 0x1: return "26m"
        case 0x2: return "20m"
        case 0xF: return "80m"
        default: return "unknown (\(hex(spiSpeed)))"
        }
    }

    public var spiSizeName: String {
        spiSize <= 7 ? "\(1 << spiSize)MB" : "unknown (\(spiSize))"
    }

    /// Flash size in bytes encoded by `spiSize`, or nil when the nibble is out of range.
    public var flashSizeBytes: Int? { spiSize <= 7 ? (1 << Int(spiSize)) * 1024 * 1024 : nil }
}
