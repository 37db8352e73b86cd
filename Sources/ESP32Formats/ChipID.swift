// esp_chip_id_t values carried at image header offset 12 (esp32-formats.md §1.1).

/// The chip an image was built for. Unknown ids are kept as raw values rather than rejected,
/// so that `image info` can show them; the bootloader compares against its own chip.
public struct ChipID: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let esp32 = ChipID(rawValue: 0x0000)
    public static let esp32s2 = ChipID(rawValue: 0x0002)
    public static let esp32c3 = ChipID(rawValue: 0x0005)
    public static let esp32s3 = ChipID(rawValue: 0x0009)
    public static let esp32c2 = ChipID(rawValue: 0x000C)
    public static let esp32c6 = ChipID(rawValue: 0x000D)
    public static let esp32h2 = ChipID(rawValue: 0x0010)
    public static let esp32p4 = ChipID(rawValue: 0x0012)
    public static let esp32c61 = ChipID(rawValue: 0x0014)
    public static let esp32c5 = ChipID(rawValue: 0x0017)
    public static let esp32h21 = ChipID(rawValue: 0x0019)
    public static let esp32h4 = ChipID(rawValue: 0x001C)
    public static let esp32s31 = ChipID(rawValue: 0x0020)
    public static let invalid = ChipID(rawValue: 0xFFFF)

    private static let names: [UInt16: String] = [
        0x0000: "ESP32", 0x0002: "ESP32-S2", 0x0005: "ESP32-C3", 0x0009: "ESP32-S3", 0x000C: "ESP32-C2",
        0x000D: "ESP32-C6", 0x0010: "ESP32-H2", 0x0012: "ESP32-P4", 0x0014: "ESP32-C61", 0x0017: "ESP32-C5",
        0x0019: "ESP32-H21", 0x001C: "ESP32-H4", 0x0020: "ESP32-S31", 0xFFFF: "invalid",
    ]

    /// The chip's marketing name, or nil for an id this table does not know.
    public var name: String? { Self.names[rawValue] }

    public var description: String { name ?? "unknown chip 0x\(String(rawValue, radix: 16))" }

    /// Parses "esp32", "ESP32-C3", "esp32c3" (esptool's spelling) and the like.
    public init?(name: String) {
        func normalized(_ text: String) -> String { String(text.lowercased().filter { $0 != "-" }) }
        let wanted = normalized(name)
        guard let match = Self.names.first(where: { normalized($0.value) == wanted }) else { return nil }
        self.rawValue = match.key
    }
}
