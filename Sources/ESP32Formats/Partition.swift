// One partition table entry, esp_partition_info_t (esp32-formats.md §2.1), and the type/subtype vocabulary
// that gen_esp32part accepts in CSV files.

public struct PartitionType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let app = PartitionType(rawValue: 0x00)
    public static let data = PartitionType(rawValue: 0x01)
    public static let bootloader = PartitionType(rawValue: 0x02)
    public static let partitionTable = PartitionType(rawValue: 0x03)

    static let keywords: [(String, UInt8)] = [("app", 0), ("data", 1), ("bootloader", 2), ("partition_table", 3)]

    public var name: String? { Self.keywords.first { $0.1 == rawValue }?.0 }
    public var description: String { name ?? hex(rawValue) }

    /// Subtype keywords valid for this type, as in gen_esp32part (ota_0..ota_15, tee_0/1 included).
    var subtypeKeywords: [(String, UInt8)] {
        switch self {
        case .app:
            return [("factory", 0x00), ("test", 0x20)] + (0..<16).map { ("ota_\($0)", UInt8(0x10 + $0)) }
                + [("tee_0", 0x30), ("tee_1", 0x31)]
        case .data:
            return [
                ("ota", 0x00), ("phy", 0x01), ("nvs", 0x02), ("coredump", 0x03), ("nvs_keys", 0x04), ("efuse", 0x05),
                ("undefined", 0x06), ("esphttpd", 0x80), ("fat", 0x81), ("spiffs", 0x82), ("littlefs", 0x83),
                ("tee_ota", 0x90),
            ]
        case .bootloader: return [("primary", 0x00), ("ota", 0x01), ("recovery", 0x02)]
        case .partitionTable: return [("primary", 0x00), ("ota", 0x01)]
        default: return []
        }
    }

    public func subtypeName(_ subtype: UInt8) -> String? { subtypeKeywords.first { $0.1 == subtype }?.0 }

    /// Offsets of apps are 64 KiB-aligned (MMU page); everything else 4 KiB (a flash sector).
    var offsetAlignment: UInt32 { self == .app ? 0x10000 : 0x1000 }
}

public enum PartitionDataSubtype {
    public static let ota: UInt8 = 0x00
    public static let phy: UInt8 = 0x01
    public static let nvs: UInt8 = 0x02
    public static let coredump: UInt8 = 0x03
    public static let undefined: UInt8 = 0x06
    public static let teeOTA: UInt8 = 0x90
}

public enum PartitionAppSubtype {
    public static let factory: UInt8 = 0x00
    public static let ota0: UInt8 = 0x10
    public static let test: UInt8 = 0x20
    /// `ota_N` is 0x10 + N for N in 0...15.
    public static func isOTA(_ subtype: UInt8) -> Bool { (0x10...0x1F).contains(subtype) }
}

public struct Partition: Equatable, Sendable {
    public static let entrySize = 32
    public static let magic: [UInt8] = [0xAA, 0x50]
    public static let maximumNameLength = 16

    public var name: String
    public var type: PartitionType
    public var subtype: UInt8
    public var offset: UInt32
    public var size: UInt32
    public var encrypted: Bool
    public var readonly: Bool

    public init(
        name: String, type: PartitionType, subtype: UInt8, offset: UInt32, size: UInt32, encrypted: Bool = false,
        readonly: Bool = false
    ) {
        self.name = name
        self.type = type
        self.subtype = subtype
        self.offset = offset
        self.size = size
        self.encrypted = encrypted
        self.readonly = readonly
    }

    public var end: UInt64 { UInt64(offset) + UInt64(size) }
    public var subtypeName: String { type.subtypeName(subtype) ?? hex(subtype) }
    public var isOTASlot: Bool { type == .app && PartitionAppSubtype.isOTA(subtype) }
    /// N for an ota_N app partition.
    public var otaSlotNumber: Int? { isOTASlot ? Int(subtype & 0x0F) : nil }

    var flagsWord: UInt32 { (encrypted ? 1 : 0) | (readonly ? 2 : 0) }

    /// The 32-byte entry: `<2sBBLL16sL`. The name is NUL-padded; a 16-byte name has no terminator.
    public func encoded() -> [UInt8] {
        var out = Self.magic + [type.rawValue, subtype]
        out.reserveCapacity(Self.entrySize)
        out.appendLE32(offset)
        out.appendLE32(size)
        out.append(contentsOf: Array(name.utf8.prefix(Self.maximumNameLength)))
        out.append(
            contentsOf: repeatElement(0, count: Self.maximumNameLength - min(name.utf8.count, Self.maximumNameLength)))
        out.appendLE32(flagsWord)
        return out
    }
}
