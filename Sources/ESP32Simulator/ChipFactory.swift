import ESP32Formats

// A chip as it leaves the factory: the partition table at 0x8000, blank otadata, the factory app, and the eFuses
// burned for secure boot (with the key the bootloader carries) and anti-rollback when asked.

public struct SimulatedChip {
    public let flash: SimulatedFlash
    public var efuses: EFuses
    public let bootloader: Bootloader

    public init(flash: SimulatedFlash, efuses: EFuses, verificationKey: [UInt8]?) {
        self.flash = flash
        self.efuses = efuses
        bootloader = Bootloader(verificationKey: verificationKey)
    }

    /// Flashes `table` and `factoryImage` (into factory, or ota_0 when the table has none) on an erased chip.
    public static func manufacture(
        factoryImage: [UInt8], table: PartitionTable = .twoOTA, secureBootKey: [UInt8]? = nil,
        antiRollback: Bool = false, flashSize: Int = SimulatedFlashGeometry.defaultChipSize
    ) throws -> SimulatedChip {
        let flash = SimulatedFlash(size: flashSize)
        try flash.write(Int(PartitionTable.defaultOffset), try table.binary())
        guard let target = table.factory ?? table.otaSlots.first else { throw BootError.noBootableApp }
        try flash.write(Int(target.offset), factoryImage)
        var efuses = EFuses()
        if let secureBootKey { try efuses.enableSecureBoot(rawPublicKey: secureBootKey) }
        if antiRollback { efuses.enableAntiRollback() }
        return SimulatedChip(flash: flash, efuses: efuses, verificationKey: secureBootKey)
    }

    /// Runs the bootloader (which may write otadata and burn eFuses).
    public mutating func boot() throws -> BootOutcome {
        try bootloader.boot(flash: flash, efuses: &efuses)
    }

    /// The OTA API as the app booted from `outcome` sees it.
    public func operations(after outcome: BootOutcome) throws -> OTAOperations {
        OTAOperations(
            flash: flash, layout: try FlashLayout(flash: flash), check: bootloader.check, running: outcome.partition)
    }
}
