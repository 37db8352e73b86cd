import ESP32Formats

// What the bootloader and the OTA API share: the partition table at 0x8000 and the otadata partition on the
// simulated flash. otadata entries are rewritten the way ESP-IDF does it: erase the entry's sector, then program
// its 32 bytes (two flash operations, either of which a power cut can hit).

public struct FlashLayout {
    public let table: PartitionTable
    public let otaData: Partition
    public let factory: Partition?
    /// ota_0, ota_1, … by subtype.
    public let slots: [Partition]

    public init(flash: SimulatedFlash) throws {
        let binary = try flash.read(Int(PartitionTable.defaultOffset), count: PartitionTable.maximumBinaryLength)
        table = try PartitionTable(binary: binary)
        guard let otaData = table.otaData else { throw BootError.noOTADataPartition }
        self.otaData = otaData
        factory = table.factory
        slots = table.otaSlots
    }

    public func readOTAData(_ flash: SimulatedFlash) throws -> OTAData {
        try OTAData(partition: try flash.read(Int(otaData.offset), count: OTAData.partitionSize))
    }

    /// Rewrites entry `index` (0 or 1) in place: erase its sector, program the 32 bytes.
    public func writeEntry(_ entry: OTASelectEntry, at index: Int, to flash: SimulatedFlash) throws {
        let sector = Int(otaData.offset) + index * OTAData.sectorSize
        try flash.erase(sector, length: OTAData.sectorSize)
        try flash.write(sector, entry.encoded())
    }

    /// The slot an entry points at.
    public func slot(of entry: OTASelectEntry) -> Partition? {
        entry.slot(otaAppCount: slots.count).map { slots[$0] }
    }

    public func partitionBytes(_ partition: Partition, from flash: SimulatedFlash) throws -> [UInt8] {
        try flash.read(Int(partition.offset), count: Int(partition.size))
    }
}

public enum BootError: Error, Equatable, CustomStringConvertible {
    case noOTADataPartition
    case noBootableApp

    public var description: String {
        switch self {
        case .noOTADataPartition: return "the partition table has no otadata partition"
        case .noBootableApp: return "No bootable app partitions in the partition table"
        }
    }
}
