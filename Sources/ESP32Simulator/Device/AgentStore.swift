import ESP32Formats

// The agent's small persistent store on flash, power-cut safe the way otadata is: two sectors of the nvs
// partition, each holding {sequence, length, bytes, CRC-32}; a save writes the sector not holding the newest
// record (erase, then program), so a cut leaves the previous record intact. The newest valid record wins.

public struct AgentStore {
    let flash: SimulatedFlash
    let base: Int

    public init(flash: SimulatedFlash, layout: FlashLayout) throws {
        self.flash = flash
        guard let nvs = layout.table.partitions.first(where: { $0.type == .data && $0.subtype == 0x02 }),
            nvs.size >= UInt32(2 * SimulatedFlash.sectorSize)
        else { throw AgentStoreError.noStorePartition }
        base = Int(nvs.offset)
    }

    public func load() -> [UInt8]? {
        guard let newest = records().max(by: { $0.sequence < $1.sequence }) else { return nil }
        return newest.bytes.isEmpty ? nil : newest.bytes
    }

    public func save(_ bytes: [UInt8]) throws {
        let existing = records()
        let newest = existing.max { $0.sequence < $1.sequence }
        let sector = newest.map { 1 - $0.sector } ?? 0
        var record: [UInt8] = []
        let sequence = (newest?.sequence ?? 0) &+ 1
        record.appendLE32(sequence)
        record.appendLE32(UInt32(bytes.count))
        record += bytes
        record.appendLE32(CRC32.checksum(record))
        let offset = base + sector * SimulatedFlash.sectorSize
        try flash.erase(offset, length: SimulatedFlash.sectorSize)
        try flash.write(offset, record)
    }

    struct Record {
        let sector: Int
        let sequence: UInt32
        let bytes: [UInt8]
    }

    func records() -> [Record] {
        (0..<2).compactMap { sector -> Record? in
            let offset = base + sector * SimulatedFlash.sectorSize
            guard let head = try? flash.read(offset, count: 8) else { return nil }
            let sequence = head.loadLE32(at: 0)
            let length = Int(head.loadLE32(at: 4))
            guard sequence != 0xFFFF_FFFF, length <= SimulatedFlash.sectorSize - 12,
                let body = try? flash.read(offset, count: 8 + length + 4)
            else { return nil }
            guard CRC32.checksum(Array(body[0..<8 + length])) == body.loadLE32(at: 8 + length) else { return nil }
            return Record(sector: sector, sequence: sequence, bytes: Array(body[8..<8 + length]))
        }
    }
}

public enum AgentStoreError: Error, CustomStringConvertible {
    case noStorePartition
    public var description: String { "the partition table has no nvs partition of at least two sectors" }
}
