import ESP32Formats
import ESP32Simulator
import Testing

@Suite struct BootloaderTests {
    @Test func aFreshChipBootsFactoryAndAnUpdateGoesNewPendingVerifyValid() throws {
        var chip = try Fixtures.chip()
        let first = try chip.boot()
        #expect(first.partition.name == "factory" && first.descriptor.version == "1.0.0" && first.state == nil)

        let slot = try Fixtures.install(try Fixtures.image("1.1.0"), on: chip, after: first)
        #expect(slot.name == "ota_0")
        let second = try chip.boot()
        #expect(second.partition.name == "ota_0" && second.state == .pendingVerify)
        #expect(second.log.contains { $0.contains("NEW → PENDING_VERIFY") })
        try chip.operations(after: second).markRunningValid(efuses: &chip.efuses, secureVersion: 0)
        let third = try chip.boot()
        #expect(third.partition.name == "ota_0" && third.state == .valid)

        // The next update goes to ota_1 with sequence 2.
        _ = try Fixtures.install(try Fixtures.image("1.2.0"), on: chip, after: third)
        let layout = try FlashLayout(flash: chip.flash)
        let data = try layout.readOTAData(chip.flash)
        #expect(data.entries.map(\.sequence) == [1, 2] && data.entries[1].state == .new)
    }

    @Test func aRebootWithoutConfirmationRollsBack() throws {
        var chip = try Fixtures.chip()
        let first = try chip.boot()
        _ = try Fixtures.install(try Fixtures.image("1.1.0"), on: chip, after: first)
        #expect(try chip.boot().partition.name == "ota_0")
        // No self-test confirmation: the next boot marks it ABORTED and goes back to factory.
        let back = try chip.boot()
        #expect(back.partition.name == "factory")
        #expect(back.log.contains { $0.contains("was PENDING_VERIFY: now ABORTED") })
        #expect(try chip.boot().partition.name == "factory", "an ABORTED slot is never chosen again")
    }

    @Test func aCorruptOrForeignSignedImageIsNotBootedAndTheBootloaderFallsBack() throws {
        var chip = try Fixtures.chip()
        let first = try chip.boot()
        let slot = try Fixtures.install(try Fixtures.image("1.1.0"), on: chip, after: first)
        // Flip one bit of the installed image behind the OTA API's back (a flash fault).
        let byte = try chip.flash.read(Int(slot.offset) + 5000, count: 1)[0]
        if byte != 0 { try chip.flash.write(Int(slot.offset) + 5000, [byte & (byte - 1)]) }
        let fallback = try chip.boot()
        #expect(fallback.partition.name == "factory")
        #expect(fallback.log.contains { $0.contains("Image in ota_0 is not bootable") })

        let ops = try chip.operations(after: fallback)
        let foreign = try Fixtures.image("1.1.1", signer: .init())
        try ops.begin(ops.nextUpdatePartition, size: foreign.count)
        try ops.write(ops.nextUpdatePartition, offset: 0, foreign)
        #expect(throws: (any Error).self, "esp_ota_end refuses a signature by another key") {
            try ops.end(ops.nextUpdatePartition, efuses: chip.efuses)
        }
    }

    @Test func antiRollbackBurnsTheFuseOnValidAndRefusesOlderImages() throws {
        var chip = try Fixtures.chip(antiRollback: true)
        let first = try chip.boot()
        _ = try Fixtures.install(try Fixtures.image("2.0.0", secureVersion: 2), on: chip, after: first)
        let second = try chip.boot()
        #expect(chip.efuses.secureVersion == 0, "never raised while PENDING_VERIFY")
        try chip.operations(after: second).markRunningValid(efuses: &chip.efuses, secureVersion: 2)
        #expect(chip.efuses.secureVersion == 2)
        #expect(throws: EFuseError.secureVersionBelowFused(requested: 1, fused: 2)) {
            try chip.efuses.raiseSecureVersion(to: 1)
        }
        let third = try chip.boot()
        #expect(throws: ImageCheckError.secureVersionTooLow(image: 1, fused: 2)) {
            _ = try Fixtures.install(try Fixtures.image("1.9.0", secureVersion: 1), on: chip, after: third)
        }
        #expect(try chip.boot().descriptor.version == "2.0.0")
    }
}
