import ESP32Formats
import OTAWire

// After a new image proved itself (otadata VALID), every other app slot holding an older image is erased, so that
// no forced rollback to it is possible: an attacker with flash access, or a bug, flipping otadata back finds
// nothing the bootloader will run there. ESP-IDF's partition API does it with esp_partition_erase_range.
//
// The erase is idempotent and power-cut safe: each slot is erased from its last sector to its first, so the image
// header goes last and a slot whose first sector still holds data is not finished; the next call (the port makes
// one at every boot of a confirmed image) completes it. Sectors already erased are skipped (read, not erased
// again), which keeps wear and time to what the old image occupied.

extension OTAOperations {
    /// Erases every app partition other than the running one that does not hold a newer image than
    /// `runningVersion`: the OTA slots and, unless `keepFactory`, the factory app. `skip` (the slot a download is
    /// being written to) is left alone. Returns the partitions erased by this call.
    @discardableResult
    public func eraseOlderImages(runningVersion: String, keepFactory: Bool, skip: Partition? = nil) throws
        -> [Partition]
    {
        let candidates = layout.slots + (keepFactory ? [] : layout.factory.map { [$0] } ?? [])
        var erased: [Partition] = []
        for partition in candidates where partition != running && partition != skip {
            let offset = Int(partition.offset)
            guard try !flash.isErased(offset, length: SimulatedFlash.sectorSize) else { continue }
            if let version = try flash.imageVersion(in: partition), let running = AppVersion32(runningVersion),
                let other = AppVersion32(version), other > running
            {
                continue  // a newer image (one that failed its self-test, say) is no rollback target
            }
            for sector in stride(
                from: Int(partition.size) - SimulatedFlash.sectorSize, through: 0, by: -SimulatedFlash.sectorSize)
            where try !flash.isErased(offset + sector, length: SimulatedFlash.sectorSize) {
                try flash.erase(offset + sector, length: SimulatedFlash.sectorSize)
            }
            erased.append(partition)
        }
        return erased
    }

}

extension SimulatedFlash {
    /// The version in the app descriptor at the start of `partition` (nil when no image header is there).
    func imageVersion(in partition: Partition) throws -> String? {
        let head = try read(Int(partition.offset), count: AppDescriptor.imageOffset + AppDescriptor.size)
        guard head[0] == ImageHeader.magic else { return nil }
        return try? AppDescriptor(bytes: Array(head[AppDescriptor.imageOffset...])).version
    }
}
