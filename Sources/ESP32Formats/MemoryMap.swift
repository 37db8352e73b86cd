// ESP32 address regions that decide how the bootloader treats a segment (esp32-formats.md §1.2).

/// What a segment's load address means to the ESP32 bootloader.
public enum SegmentRegion: String, Sendable {
    /// Flash-mapped data (DROM) or code (IROM): the data stays in flash and must be 64 KiB-page aligned.
    case drom = "DROM"
    case irom = "IROM"
    /// Copied to RAM at boot.
    case iram = "IRAM"
    case dram = "DRAM"
    case rtcIRAM = "RTC_IRAM"
    case rtcDRAM = "RTC_DRAM"
    case rtcData = "RTC_DATA"
    /// Load address below 0x10000000: never loaded; esptool's alignment filler.
    case padding = "PADDING"
    case unknown = "UNKNOWN"

    /// Regions of the ESP32 (chip id 0). Other chips have other maps; their segments classify as unknown.
    public init(esp32LoadAddress address: UInt32) {
        switch address {
        case ..<0x1000_0000: self = .padding
        case 0x3F40_0000..<0x3F80_0000: self = .drom
        case 0x400D_0000..<0x4040_0000: self = .irom
        case 0x4007_0000..<0x400C_0000: self = .iram
        case 0x3FFA_E000..<0x4000_0000: self = .dram
        case 0x400C_0000..<0x400C_2000: self = .rtcIRAM
        case 0x3FF8_0000..<0x3FF8_2000: self = .rtcDRAM
        case 0x5000_0000..<0x5000_2000: self = .rtcData
        default: self = .unknown
        }
    }

    /// Flash-mapped segments must sit at a file offset congruent to their address modulo the MMU page.
    public var isFlashMapped: Bool { self == .drom || self == .irom }
}

/// The ESP32 MMU page: flash-mapped segments and app partitions align to it.
public let mmuPageSize = 0x10000
