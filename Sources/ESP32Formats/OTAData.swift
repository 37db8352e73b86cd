// The otadata partition (data/ota, 0x2000 bytes): two 32-byte esp_ota_select_entry_t, one at the start of each
// 4 KiB sector (esp32-formats.md §3.1). The CRC covers only ota_seq; the state is unprotected.

/// esp_ota_img_states_t. Stored as a raw u32 in flash; any other value can appear (e.g. after a torn write).
public enum OTADataState: UInt32, Sendable, CaseIterable {
    case new = 0x0
    case pendingVerify = 0x1
    case valid = 0x2
    case invalid = 0x3
    case aborted = 0x4
    case undefined = 0xFFFF_FFFF
}

public struct OTASelectEntry: Equatable, Sendable {
    public static let size = 32

    public var sequence: UInt32
    /// seq_label: unused by ESP-IDF; 0xFF in practice.
    public var label: [UInt8]
    /// The raw ota_state word; see `state` for the named value.
    public var rawState: UInt32
    public var crc: UInt32

    /// An entry as `esp_ota_set_boot_partition` writes it: the CRC computed over the sequence number.
    public init(sequence: UInt32, state: OTADataState, label: [UInt8] = Array(repeating: 0xFF, count: 20)) {
        self.sequence = sequence
        self.label = label
        self.rawState = state.rawValue
        self.crc = Self.crc(forSequence: sequence)
    }

    /// Parses 32 bytes exactly as stored; a bad CRC is kept (see `isCRCValid`), not rejected.
    public init(bytes: [UInt8]) throws(OTADataError) {
        guard bytes.count >= Self.size else { throw .truncated(length: bytes.count) }
        sequence = bytes.loadLE32(at: 0)
        label = Array(bytes[4..<24])
        rawState = bytes.loadLE32(at: 24)
        crc = bytes.loadLE32(at: 28)
    }

    /// The erased entry (all 0xFF): "factory boot settings".
    public static let erased = OTASelectEntry(
        sequence: 0xFFFF_FFFF, label: Array(repeating: 0xFF, count: 20), rawState: 0xFFFF_FFFF, crc: 0xFFFF_FFFF)

    /// Any entry, including ones ESP-IDF would never write (used by tests and the simulator's torn writes).
    public init(sequence: UInt32, label: [UInt8], rawState: UInt32, crc: UInt32) {
        self.sequence = sequence
        self.label = label
        self.rawState = rawState
        self.crc = crc
    }

    /// `esp_rom_crc32_le(0xFFFFFFFF, &ota_seq, 4)`: seq 1 → 0x4743989A.
    public static func crc(forSequence sequence: UInt32) -> UInt32 {
        var bytes: [UInt8] = []
        bytes.appendLE32(sequence)
        return CRC32.checksum(bytes, seed: 0xFFFF_FFFF)
    }

    public var state: OTADataState? { OTADataState(rawValue: rawState) }
    public var isCRCValid: Bool { crc == Self.crc(forSequence: sequence) }
    /// ESP-IDF's "invalid" predicate: never selected.
    public var isInvalid: Bool {
        sequence == 0xFFFF_FFFF || rawState == OTADataState.invalid.rawValue
            || rawState == OTADataState.aborted.rawValue
    }
    /// ESP-IDF's "valid" predicate: not invalid and the CRC matches. NEW, PENDING_VERIFY, VALID, UNDEFINED and
    /// any unknown state are bootable.
    public var isValid: Bool { !isInvalid && isCRCValid }

    /// `ota_slot = (ota_seq − 1) % ota_app_count`.
    public func slot(otaAppCount: Int) -> Int? {
        guard otaAppCount > 0, sequence > 0 else { return nil }
        return Int((sequence - 1) % UInt32(otaAppCount))
    }

    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Self.size)
        out.appendLE32(sequence)
        out.append(contentsOf: (label + Array(repeating: 0xFF, count: 20)).prefix(20))
        out.appendLE32(rawState)
        out.appendLE32(crc)
        return out
    }
}

public enum OTADataError: Error, Equatable, Sendable, CustomStringConvertible {
    case truncated(length: Int)
    case wrongPartitionSize(Int)

    public var description: String {
        switch self {
        case .truncated(let length):
            return "otadata entry is truncated: \(length) bytes, an entry is \(OTASelectEntry.size)"
        case .wrongPartitionSize(let size):
            return "otadata partition is \(size) bytes; it must be two 4 KiB sectors (0x2000)"
        }
    }
}

/// Both otadata entries and ESP-IDF's choice between them.
public struct OTAData: Equatable, Sendable {
    public static let partitionSize = 0x2000
    public static let sectorSize = 0x1000

    public var entries: [OTASelectEntry]

    public init(entries: [OTASelectEntry]) {
        precondition(entries.count == 2, "otadata has exactly two entries")
        self.entries = entries
    }

    public init(partition bytes: [UInt8]) throws(OTADataError) {
        guard bytes.count == Self.partitionSize else { throw .wrongPartitionSize(bytes.count) }
        entries = [
            try OTASelectEntry(bytes: Array(bytes[0..<OTASelectEntry.size])),
            try OTASelectEntry(bytes: Array(bytes[Self.sectorSize..<Self.sectorSize + OTASelectEntry.size])),
        ]
    }

    /// The active entry's index: the valid one; if both are valid, the larger sequence (a tie goes to entry 0).
    public var activeIndex: Int? {
        switch (entries[0].isValid, entries[1].isValid) {
        case (true, true): return entries[1].sequence > entries[0].sequence ? 1 : 0
        case (true, false): return 0
        case (false, true): return 1
        case (false, false): return nil
        }
    }

    /// The whole 0x2000-byte partition: each entry at the start of its sector, the rest erased.
    public func encoded() -> [UInt8] {
        var out = [UInt8](repeating: 0xFF, count: Self.partitionSize)
        for (index, entry) in entries.enumerated() {
            out.replaceSubrange(
                index * Self.sectorSize..<index * Self.sectorSize + OTASelectEntry.size, with: entry.encoded())
        }
        return out
    }
}
