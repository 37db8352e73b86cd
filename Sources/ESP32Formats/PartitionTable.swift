// The partition table: an ordered list of partitions, the rules gen_esp32part enforces, and the binary form
// the bootloader reads at 0x8000 (esp32-formats.md §2).
import Crypto

public struct PartitionTable: Equatable, Sendable {
    public static let defaultOffset: UInt32 = 0x8000
    /// The table occupies one 4 KiB sector; partitions start after it.
    public static let sectorSize: UInt32 = 0x1000
    /// ESP_PARTITION_TABLE_MAX_LEN: entries, MD5 entry and padding fill exactly this many bytes.
    public static let maximumBinaryLength = 0xC00
    static let md5EntryPrefix: [UInt8] = [0xEB, 0xEB] + Array(repeating: 0xFF, count: 14)

    /// Secure boot changes the size alignment of app partitions (gen_esp32part `--secure`).
    public enum SecureBoot: String, Sendable {
        case v1
        case v2
    }

    public var partitions: [Partition]

    public init(partitions: [Partition]) {
        self.partitions = partitions
    }

    public func partition(named name: String) -> Partition? { partitions.first { $0.name == name } }
    public var factory: Partition? { partitions.first { $0.type == .app && $0.subtype == PartitionAppSubtype.factory } }
    public var otaData: Partition? {
        partitions.first { $0.type == .data && $0.subtype == PartitionDataSubtype.ota }
    }
    /// ota_N app partitions ordered by N.
    public var otaSlots: [Partition] {
        partitions.filter(\.isOTASlot).sorted { $0.subtype < $1.subtype }
    }

    /// Checks gen_esp32part's rules. `tableOffset` nil skips the "below the table" check (binary tables read
    /// from an unknown offset); `lines` maps partition index to CSV line for messages.
    public func verify(
        tableOffset: UInt32? = defaultOffset, secureBoot: SecureBoot? = nil, lines: [Int]? = nil
    ) throws(PartitionTableError) {
        func line(_ index: Int) -> Int? { lines.flatMap { index < $0.count ? $0[index] : nil } }
        guard !partitions.isEmpty else { throw .empty }
        var seen = Set<String>()
        for (index, partition) in partitions.enumerated() {
            if let message = Self.ruleViolation(partition, secureBoot: secureBoot) {
                throw .invalidPartition(name: partition.name, line: line(index), message: message)
            }
            guard seen.insert(partition.name).inserted else { throw .duplicateName(partition.name) }
        }
        var previous: Partition?
        for partition in partitions.sorted(by: { $0.offset < $1.offset }) {
            if let tableOffset, partition.offset < tableOffset + Self.sectorSize, !partition.isPrimaryBootStructure {
                throw .belowTable(
                    name: partition.name, offset: partition.offset, firstFree: tableOffset + Self.sectorSize)
            }
            if let previous, UInt64(partition.offset) < previous.end {
                throw .overlap(
                    name: partition.name, offset: partition.offset, otherName: previous.name,
                    otherOffset: previous.offset, otherEnd: previous.end)
            }
            previous = partition
        }
        for subtype in [PartitionDataSubtype.ota, PartitionDataSubtype.teeOTA] {
            let matches = partitions.filter { $0.type == .data && $0.subtype == subtype }
            guard matches.count <= 1 else { throw .multipleOTAData(subtype: subtype) }
            if let otadata = matches.first, otadata.size != UInt32(OTAData.partitionSize) {
                throw .otaDataSize(name: otadata.name, size: otadata.size)
            }
        }
    }

    /// The first rule a single partition breaks, or nil.
    static func ruleViolation(_ partition: Partition, secureBoot: SecureBoot?) -> String? {
        if partition.name.isEmpty { return "the name is empty" }
        // The entry holds the name NUL-padded: a NUL inside would end it there on the device and when read back.
        if partition.name.utf8.contains(0) { return "the name contains a NUL character" }
        if partition.name.utf8.count > Partition.maximumNameLength {
            return "the name is \(partition.name.utf8.count) bytes; the entry holds at most 16"
        }
        if partition.type.rawValue == 0xFF { return "type 0xff is reserved for the end marker" }
        if partition.size == 0 { return "the size is zero" }
        if partition.end > UInt64(UInt32.max) + 1 { return "it ends past the 4 GiB address space" }
        let alignment = partition.type.offsetAlignment
        if partition.offset % alignment != 0 {
            return "offset \(hex(partition.offset)) is not aligned to \(hex(alignment))"
        }
        if partition.type == .app {
            let sizeAlignment: UInt32 = secureBoot == .v1 ? 0x10000 : 0x1000
            if partition.size % sizeAlignment != 0 {
                return "size \(hex(partition.size)) is not aligned to \(hex(sizeAlignment))"
            }
        }
        if partition.type == .data, partition.readonly,
            [PartitionDataSubtype.ota, PartitionDataSubtype.coredump].contains(partition.subtype)
        {
            return "\(partition.subtypeName) partitions are always read-write and cannot be readonly"
        }
        if partition.type == .data, partition.subtype == PartitionDataSubtype.nvs, !partition.readonly,
            partition.size < 0x3000
        {
            return "a read/write NVS partition needs at least 0x3000 bytes (this one has \(hex(partition.size))); "
                + "make it bigger or flag it readonly"
        }
        return nil
    }

    /// Throws when a partition ends past `flashSize` bytes (the bootloader's check).
    public func verifyFits(flashSize: Int) throws(PartitionTableError) {
        if let end = partitions.map(\.end).max(), end > UInt64(flashSize) {
            throw .doesNotFitFlash(end: end, flashSize: flashSize)
        }
    }

    // MARK: - Binary

    /// Entries, then (by default) the MD5 entry, then 0xFF up to 0xC00 bytes — gen_esp32part's output.
    public func binary(includeMD5: Bool = true) throws(PartitionTableError) -> [UInt8] {
        var out = partitions.flatMap { $0.encoded() }
        if includeMD5 {
            out += Self.md5EntryPrefix + Insecure.MD5.hash(data: out)
        }
        guard out.count < Self.maximumBinaryLength else { throw .tooLarge(bytes: out.count) }
        return out + Array(repeating: 0xFF, count: Self.maximumBinaryLength - out.count)
    }

    /// Reads a binary table (the 0xC00-byte data area or a whole 4 KiB sector) as the bootloader does:
    /// entries until the end marker, an MD5 entry checked against everything before it, any other magic refused.
    public init(binary bytes: [UInt8]) throws(PartitionTableError) {
        let area = bytes.prefix(Self.maximumBinaryLength)
        var partitions: [Partition] = []
        var md5 = Insecure.MD5()
        var index = 0
        while true {
            let start = area.startIndex + index * Partition.entrySize
            guard start < area.endIndex else { throw .missingEndMarker }
            guard area.endIndex - start >= Partition.entrySize else {
                throw .truncatedEntry(index: index, bytes: area.endIndex - start)
            }
            let entry = Array(area[start..<start + Partition.entrySize])
            if entry[0] == 0xFF, entry[1] == 0xFF, entry[2] == 0xFF, entry[3] == 0xFF { break }
            if entry[0] == 0xEB, entry[1] == 0xEB {
                let computed = Array(md5.finalize())
                guard Array(entry[16..<32]) == computed else {
                    throw .md5Mismatch(computed: hexString(computed), stored: hexString(entry[16..<32]))
                }
                md5 = Insecure.MD5()
            } else {
                guard entry[0] == 0xAA, entry[1] == 0x50 else {
                    throw .badMagic(index: index, magic: Array(entry[0..<2]))
                }
                let name = entry[12..<28].prefix { $0 != 0 }
                guard String(validating: name, as: UTF8.self) != nil else {
                    throw .nameNotUTF8(index: index, name: Array(name))
                }
                md5.update(data: entry)
                partitions.append(Self.decodeEntry(entry))
            }
            index += 1
        }
        guard !partitions.isEmpty else { throw .empty }
        self.partitions = partitions
    }

    static func decodeEntry(_ entry: [UInt8]) -> Partition {
        let flags = entry.loadLE32(at: 28)
        return Partition(
            name: decodeFixedString(entry[12..<28]), type: PartitionType(rawValue: entry[2]), subtype: entry[3],
            offset: entry.loadLE32(at: 4), size: entry.loadLE32(at: 8), encrypted: flags & 1 != 0,
            readonly: flags & 2 != 0)
    }
}

extension Partition {
    /// The primary bootloader and primary partition table rows sit below the table's end by definition.
    var isPrimaryBootStructure: Bool {
        (type == .bootloader || type == .partitionTable) && subtype == 0
    }
}
