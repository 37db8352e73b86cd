import ESP32Formats

// The app-side OTA API of ESP-IDF (esp32-formats.md §3.4) over the simulated flash: begin (erase the passive
// slot), write, end (verify), set the boot partition (a NEW otadata entry in the other sector), mark the running
// app valid (anti-rollback eFuse raised) or invalid. The device's platform builds on these.

public enum OTAOperationError: Error, Equatable, CustomStringConvertible {
    case notAnOTASlot(String)
    case partitionConflict(String)
    case rollbackInvalidState
    case writePastPartition(offset: Int, length: Int, partition: String)
    case noValidEntry

    public var description: String {
        switch self {
        case .notAnOTASlot(let name): return "\(name) is not an OTA app slot"
        case .partitionConflict(let name): return "\(name) is the running partition"
        case .rollbackInvalidState: return "the running app is still PENDING_VERIFY: confirm or roll back first"
        case .writePastPartition(let offset, let length, let name):
            return "a write of \(length) bytes at \(offset) does not fit in \(name)"
        case .noValidEntry: return "Running firmware is factory: otadata has no valid entry"
        }
    }
}

public struct OTAOperations {
    public let flash: SimulatedFlash
    public let layout: FlashLayout
    public let check: ImageCheck
    public let running: Partition

    public init(flash: SimulatedFlash, layout: FlashLayout, check: ImageCheck, running: Partition) {
        self.flash = flash
        self.layout = layout
        self.check = check
        self.running = running
    }

    /// The slot after the running one, wrapping; from factory, ota_0.
    public var nextUpdatePartition: Partition {
        guard let index = layout.slots.firstIndex(of: running) else { return layout.slots[0] }
        return layout.slots[(index + 1) % layout.slots.count]
    }

    /// The running slot's otadata state (nil for factory or when no entry maps to it).
    public func runningState() throws -> OTADataState? {
        let data = try layout.readOTAData(flash)
        return data.entries.first { $0.isCRCValid && layout.slot(of: $0) == running }?.state
    }

    /// `esp_ota_begin`: erases as much of the slot as `size` needs (rounded up to sectors).
    public func begin(_ partition: Partition, size: Int) throws {
        guard layout.slots.contains(partition) else { throw OTAOperationError.notAnOTASlot(partition.name) }
        guard partition != running else { throw OTAOperationError.partitionConflict(partition.name) }
        guard try runningState() != .pendingVerify else { throw OTAOperationError.rollbackInvalidState }
        let length = min(Int(partition.size), (size + SimulatedFlash.sectorSize - 1) / SimulatedFlash.sectorSize * 4096)
        try flash.erase(Int(partition.offset), length: length)
    }

    /// `esp_ota_write_with_offset`.
    public func write(_ partition: Partition, offset: Int, _ bytes: [UInt8]) throws {
        guard offset >= 0, offset + bytes.count <= Int(partition.size) else {
            throw OTAOperationError.writePastPartition(offset: offset, length: bytes.count, partition: partition.name)
        }
        try flash.write(Int(partition.offset) + offset, bytes)
    }

    /// `esp_ota_end`: the whole image in the slot must verify.
    @discardableResult
    public func end(_ partition: Partition, efuses: EFuses) throws -> ImageCheck.Verdict {
        try check.verify(partition, layout: layout, flash: flash, efuses: efuses)
    }

    /// `esp_ota_set_boot_partition`: verifies again, then writes a NEW entry for the slot in the other sector.
    public func setBootPartition(_ partition: Partition, efuses: EFuses) throws {
        try end(partition, efuses: efuses)
        guard let slotIndex = layout.slots.firstIndex(of: partition) else {
            throw OTAOperationError.notAnOTASlot(partition.name)
        }
        let data = try layout.readOTAData(flash)
        guard let active = data.activeIndex else {
            try layout.writeEntry(OTASelectEntry(sequence: UInt32(slotIndex + 1), state: .new), at: 0, to: flash)
            return
        }
        let current = data.entries[active]
        if layout.slot(of: current) == partition {
            var entry = current
            entry.rawState = OTADataState.new.rawValue
            try layout.writeEntry(entry, at: active, to: flash)
            return
        }
        var sequence = current.sequence + 1
        while Int((sequence - 1) % UInt32(layout.slots.count)) != slotIndex { sequence += 1 }
        try layout.writeEntry(OTASelectEntry(sequence: sequence, state: .new), at: 1 - active, to: flash)
    }

    /// `esp_ota_mark_app_valid_cancel_rollback`: the running slot's entry becomes VALID; anti-rollback burns
    /// the eFuse up to the running app's secure_version.
    public func markRunningValid(efuses: inout EFuses, secureVersion: Int) throws {
        let data = try layout.readOTAData(flash)
        guard let index = data.entries.firstIndex(where: { $0.isValid && layout.slot(of: $0) == running }) else {
            throw OTAOperationError.noValidEntry
        }
        if data.entries[index].state != .valid {
            var entry = data.entries[index]
            entry.rawState = OTADataState.valid.rawValue
            try layout.writeEntry(entry, at: index, to: flash)
        }
        if efuses.antiRollbackEnabled, secureVersion > efuses.secureVersion {
            try efuses.raiseSecureVersion(to: secureVersion)
        }
    }

    /// `esp_ota_mark_app_invalid_rollback`: the running slot's entry becomes INVALID (the caller reboots).
    public func markRunningInvalid() throws {
        let data = try layout.readOTAData(flash)
        guard let index = data.entries.firstIndex(where: { $0.isValid && layout.slot(of: $0) == running }) else {
            throw OTAOperationError.noValidEntry
        }
        var entry = data.entries[index]
        entry.rawState = OTADataState.invalid.rawValue
        try layout.writeEntry(entry, at: index, to: flash)
    }
}
